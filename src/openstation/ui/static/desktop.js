// The desktop's Resource Monitor widget: the live samples of /monitor/live (server-sent
// events), the last minute of CPU drawn as a sparkline.
(function () {
  "use strict";
  const KEEP = 60;
  const times = [], cpu = [];
  let plot = null;

  function rate(bytes) {
    const units = ["B/s", "KB/s", "MB/s", "GB/s"];
    let value = bytes, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return value.toFixed(value < 10 && unit ? 1 : 0) + " " + units[unit];
  }

  document.addEventListener("DOMContentLoaded", () => {
    const spark = document.getElementById("widget-spark");
    if (!spark) {
      return;
    }
    let stream = null;
    const open = () => {
      stream = new EventSource("/monitor/live");
      stream.onmessage = show;
    };
    // A hidden tab lets its connection go: a browser has six per device for every tab.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && stream) {
        stream.close();
        stream = null;
      } else if (!document.hidden && !stream) {
        open();
      }
    });
    open();

    function show(event) {
      const sample = JSON.parse(event.data);
      const load = sample.cpu_user + sample.cpu_system;
      document.getElementById("widget-cpu").textContent = load.toFixed(1) + " %";
      document.getElementById("widget-memory").textContent = sample.memory.toFixed(1) + " %";
      document.getElementById("widget-net").textContent =
        rate(sample.net_rx) + " in, " + rate(sample.net_tx) + " out";
      times.push(sample.time);
      cpu.push(load);
      if (times.length > KEEP) {
        times.shift();
        cpu.shift();
      }
      if (!plot) {
        plot = new uPlot({
          width: spark.clientWidth || 240, height: 60, legend: { show: false },
          cursor: { show: false }, scales: { y: { range: [0, 100] } },
          axes: [{ show: false }, { show: false }],
          series: [{}, { stroke: "#1f6fd1", fill: "#1f6fd122", width: 1.5 }],
        }, [times, cpu], spark);
      } else {
        plot.setData([times, cpu]);
      }
    }
  });
})();
