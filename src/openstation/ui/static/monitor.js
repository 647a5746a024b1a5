// Resource Monitor: the history of the chosen range from /monitor/history, then the live
// samples from /monitor/live (server-sent events) appended as they come.
(function () {
  "use strict";
  const CHARTS = {
    cpu: { series: ["cpu_user", "cpu_system"], labels: ["User", "System"], max: 100 },
    memory: { series: ["memory"], labels: ["Used"], max: 100 },
    net: { series: ["net_rx", "net_tx"], labels: ["In", "Out"] },
    disk: { series: ["disk_read", "disk_write"], labels: ["Read", "Write"] },
  };
  const COLOURS = ["#1f6fd1", "#c0392b"];
  const KEEP = { "10m": 600, "1h": 60, "1d": 1440, "30d": 720 };
  let range = "10m";
  let metrics = [];
  let points = [];
  const plots = {};

  function rate(bytes) {
    const units = ["B/s", "KB/s", "MB/s", "GB/s"];
    let value = bytes, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return value.toFixed(value < 10 && unit ? 1 : 0) + " " + units[unit];
  }

  function column(name) {
    const index = metrics.indexOf(name) + 1;
    return points.map((point) => point[index]);
  }

  function draw() {
    const width = Math.min(document.querySelector("main").clientWidth - 40, 900);
    const times = points.map((point) => point[0]);
    for (const [name, chart] of Object.entries(CHARTS)) {
      const data = [times, ...chart.series.map(column)];
      if (plots[name]) {
        plots[name].setData(data);
        continue;
      }
      const element = document.getElementById("chart-" + name);
      plots[name] = new uPlot({
        width: width, height: 160,
        scales: chart.max ? { y: { range: [0, chart.max] } } : {},
        series: [{}, ...chart.labels.map((label, i) => ({
          label: label, stroke: COLOURS[i], width: 1.5 }))],
        axes: [{}, { size: 70, values: chart.max ? undefined
          : (_u, ticks) => ticks.map(rate) }],
      }, data, element);
    }
  }

  function show(sample) {
    const cpu = sample.cpu_user + sample.cpu_system;
    document.getElementById("now-cpu").textContent = cpu.toFixed(1) + " %";
    document.getElementById("now-memory").textContent = sample.memory.toFixed(1) + " %";
    document.getElementById("now-net").textContent =
      rate(sample.net_rx) + " / " + rate(sample.net_tx);
    document.getElementById("now-disk").textContent =
      rate(sample.disk_read) + " / " + rate(sample.disk_write);
    document.getElementById("now-volume").textContent = sample.volume.toFixed(1) + " %";
  }

  async function load(chosen) {
    range = chosen;
    for (const button of document.querySelectorAll("nav.ranges button")) {
      button.setAttribute("aria-pressed", String(button.dataset.range === range));
    }
    const answer = await fetch("/monitor/history?range=" + range, { credentials: "same-origin" });
    const history = await answer.json();
    metrics = history.metrics;
    points = history.points;
    draw();
  }

  let stream = null;

  function live() {
    // A hidden tab lets its connection go: a browser has six per device for every tab.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && stream) {
        stream.close();
        stream = null;
      } else if (!document.hidden && !stream) {
        load(range).then(open);
      }
    });
    open();
  }

  function open() {
    stream = new EventSource("/monitor/live");
    stream.onmessage = (event) => {
      const sample = JSON.parse(event.data);
      show(sample);
      if (range !== "10m" || !metrics.length) {
        return; // the longer ranges are minute and hour averages: they move slowly
      }
      points.push([sample.time, ...metrics.map((name) => sample[name])]);
      if (points.length > KEEP[range]) {
        points.shift();
      }
      draw();
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("nav.ranges button")) {
      button.addEventListener("click", () => load(button.dataset.range));
    }
    load("10m").then(live);
  });
})();
