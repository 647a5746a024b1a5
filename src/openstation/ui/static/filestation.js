// File Station in the browser: every action is a call to the device's Web API (the same
// one every client uses), with the page's session cookie and its SynoToken.
"use strict";
(() => {
  const root = document.getElementById("fs");
  const token = root.dataset.synotoken;
  const $ = (id) => document.getElementById(id);
  const state = { folder: "", sort: "name", desc: false, entries: [], search: null };

  async function api(name, method, version, params) {
    const body = new URLSearchParams({ api: "SYNO.FileStation." + name, method,
                                       version: String(version) });
    for (const [key, value] of Object.entries(params || {})) {
      body.set(key, typeof value === "string" ? value : JSON.stringify(value));
    }
    const response = await fetch("/webapi/entry.cgi", {
      method: "POST", body, credentials: "same-origin", headers: { "X-SYNO-TOKEN": token } });
    const answer = await response.json();
    if (!answer.success) throw new Error(describe(answer.error));
    return answer.data || {};
  }

  const MESSAGES = { 105: "You have no permission.", 119: "Your session ended: sign in again.",
    407: "Operation not permitted.", 408: "No such file or folder.", 414: "It already exists.",
    416: "No space left on the volume.", 418: "Illegal name or path.",
    1003: "A file of that name exists there.", 1004: "A folder of that name exists there.",
    1805: "A file of that name exists there." };
  function describe(error) {
    const inner = (error.errors && error.errors.length) ? error.errors[0] : null;
    const code = inner && inner.code ? inner.code : error.code;
    const text = MESSAGES[code] || "The operation failed (code " + code + ").";
    return inner && inner.path ? text + " (" + inner.path + ")" : text;
  }
  function say(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "muted";
  }
  async function attempt(action) {
    try { await action(); } catch (err) { say(err.message, true); }
  }
  async function waitTask(name, taskid, onProgress) {
    for (;;) {
      const status = await api(name, "status", 2, { taskid });
      if (onProgress) onProgress(status);
      if (status.finished) return status;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const selected = () => state.entries.filter((e) => e.checked);
  const size = (n) => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KB"
    : n < 1073741824 ? (n / 1048576).toFixed(1) + " MB" : (n / 1073741824).toFixed(2) + " GB";

  async function loadShares() {
    const data = await api("List", "list_share", 2, {});
    const tree = $("tree");
    tree.replaceChildren();
    for (const share of data.shares) {
      const link = document.createElement("a");
      link.href = "#" + share.path;
      link.textContent = share.name;
      link.dataset.path = share.path;
      tree.append(link);
    }
    if (!state.folder && data.shares.length) await open(data.shares[0].path);
    if (!data.shares.length) say("You have no shared folder to open.");
  }

  async function open(folder) {
    state.folder = folder;
    state.search = null;
    await refresh();
  }

  async function refresh() {
    const params = { folder_path: state.folder, sort_by: state.sort,
                     sort_direction: state.desc ? "desc" : "asc",
                     additional: ["size", "time", "type"] };
    const data = state.search ? await api("Search", "list", 2, {
      taskid: state.search, sort_by: state.sort, sort_direction: params.sort_direction,
      additional: params.additional, limit: "1000" }) : await api("List", "list", 2, params);
    state.entries = data.files.map((f) => ({ ...f, checked: false }));
    render();
  }

  function render() {
    for (const link of $("tree").children) {
      link.classList.toggle("current", state.folder.split("/")[1] === link.dataset.path.slice(1));
    }
    const crumbs = $("crumbs");
    crumbs.replaceChildren();
    let path = "";
    for (const part of state.folder.split("/").slice(1)) {
      path += "/" + part;
      const link = document.createElement("a");
      link.href = "#" + path;
      link.dataset.path = path;
      link.textContent = part;
      crumbs.append(crumbs.children.length ? " › " : "", link);
    }
    if (state.search) crumbs.append(" — search results");
    $("select-all").checked = false;
    const body = $("files");
    body.replaceChildren();
    for (const entry of state.entries) {
      const row = document.createElement("tr");
      row.className = "entry";
      row.dataset.path = entry.path;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("aria-label", "Select " + entry.name);
      box.addEventListener("change", () => { entry.checked = box.checked; row.classList.toggle("selected", box.checked); });
      const name = document.createElement("td");
      if (entry.isdir) {
        const link = document.createElement("a");
        link.href = "#" + entry.path;
        link.dataset.path = entry.path;
        link.textContent = entry.name;
        name.append(link);
      } else {
        name.textContent = state.search ? entry.path : entry.name;
      }
      const extra = entry.additional || {};
      const cells = [entry.isdir ? "" : size(extra.size || 0),
                     entry.isdir ? "Folder" : (extra.type || "File"),
                     extra.time ? new Date(extra.time.mtime * 1000).toLocaleString() : ""];
      const first = document.createElement("td");
      first.append(box);
      row.append(first, name, ...cells.map((text) => {
        const cell = document.createElement("td"); cell.textContent = text; return cell; }));
      body.append(row);
    }
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-path]");
    if (link && root.contains(link)) { event.preventDefault(); attempt(() => open(link.dataset.path)); }
    const header = event.target.closest("th[data-sort]");
    if (header) {
      state.desc = state.sort === header.dataset.sort ? !state.desc : false;
      state.sort = header.dataset.sort;
      attempt(refresh);
    }
  });
  $("select-all").addEventListener("change", (event) => {
    for (const entry of state.entries) entry.checked = event.target.checked;
    for (const box of $("files").querySelectorAll("input")) box.checked = event.target.checked;
  });

  // --- upload, by button and by drag-and-drop, each file with its own progress ----------
  function upload(files) {
    const folder = state.folder;
    return Promise.all(Array.from(files).map((file) => send(file, folder, false))).then(refresh);
  }
  function send(file, folder, overwrite) {
    return new Promise((resolve) => {
      const item = document.createElement("li");
      const bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      const label = document.createElement("span");
      label.textContent = " " + file.name;
      item.append(bar, label);
      $("uploads").append(item);
      const form = new FormData();
      form.append("path", folder);
      if (overwrite) form.append("overwrite", "true");
      form.append("file", file, file.name);
      const request = new XMLHttpRequest();
      request.open("POST", "/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2&method=upload");
      request.setRequestHeader("X-SYNO-TOKEN", token);
      request.upload.addEventListener("progress", (e) => { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; });
      request.addEventListener("load", () => {
        let answer = {};
        try { answer = JSON.parse(request.responseText); } catch (err) { answer = { success: false, error: { code: 0 } }; }
        bar.value = 100;
        if (!answer.success && answer.error.code === 1805 &&
            window.confirm(file.name + " already exists here. Replace it?")) {
          item.remove();
          send(file, folder, true).then(resolve);
          return;
        }
        label.textContent = " " + file.name + (answer.success ? " — uploaded" : " — " + describe(answer.error));
        item.dataset.done = answer.success ? "ok" : "failed";
        resolve();
      });
      request.addEventListener("error", () => { label.textContent = " " + file.name + " — failed"; item.dataset.done = "failed"; resolve(); });
      request.send(form);
    });
  }
  $("upload").addEventListener("click", () => $("upload-input").click());
  $("upload-input").addEventListener("change", (event) => { upload(event.target.files); event.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault(); drop.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) upload(event.dataTransfer.files);
  });

  // --- the other actions ---------------------------------------------------------------
  $("create-folder").addEventListener("click", () => attempt(async () => {
    const name = window.prompt("Name of the new folder", "New folder");
    if (!name) return;
    await api("CreateFolder", "create", 2, { folder_path: state.folder, name });
    say("Folder " + name + " created."); await refresh();
  }));
  $("rename").addEventListener("click", () => attempt(async () => {
    const [entry] = selected();
    if (!entry) { say("Select a file or folder to rename.", true); return; }
    const name = window.prompt("New name", entry.name);
    if (!name || name === entry.name) return;
    await api("Rename", "rename", 2, { path: entry.path, name });
    say("Renamed to " + name + "."); await refresh();
  }));
  $("delete").addEventListener("click", () => attempt(async () => {
    const chosen = selected();
    if (!chosen.length) { say("Select what to delete.", true); return; }
    if (!window.confirm("Delete " + chosen.length + " item(s)? This cannot be undone.")) return;
    const { taskid } = await api("Delete", "start", 2, { path: chosen.map((e) => e.path) });
    await waitTask("Delete", taskid, (s) => say("Deleting… " + Math.round(100 * (s.progress || 0)) + " %"));
    say("Deleted."); await refresh();
  }));
  $("download").addEventListener("click", () => {
    const chosen = selected();
    const paths = chosen.length ? chosen.map((e) => e.path) : [state.folder];
    const single = paths.length === 1 && chosen.length === 1 && !chosen[0].isdir;
    const query = new URLSearchParams({ api: "SYNO.FileStation.Download", version: "2",
      method: "download", mode: "download", path: single ? paths[0] : JSON.stringify(paths) });
    const link = document.createElement("a");
    link.href = "/webapi/entry.cgi?" + query;
    link.download = "";
    document.body.append(link); link.click(); link.remove();
  });

  async function chooseFolder(title) {
    $("dest-title").textContent = title;
    $("dest-path").value = state.folder;
    const folders = $("dest-folders");
    folders.replaceChildren();
    const shares = await api("List", "list_share", 2, { onlywritable: "true" });
    for (const share of shares.shares) {
      const button = document.createElement("button");
      button.type = "button"; button.textContent = share.name;
      button.addEventListener("click", () => { $("dest-path").value = share.path; });
      folders.append(button, " ");
    }
    const dialog = $("dest-dialog");
    dialog.showModal();
    await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
    return dialog.returnValue === "ok" ? $("dest-path").value : null;
  }
  function transfer(move) {
    return () => attempt(async () => {
      const chosen = selected();
      if (!chosen.length) { say("Select what to " + (move ? "move" : "copy") + ".", true); return; }
      const dest = await chooseFolder(move ? "Move to" : "Copy to");
      if (!dest) return;
      const { taskid } = await api("CopyMove", "start", 3, {
        path: chosen.map((e) => e.path), dest_folder_path: dest,
        overwrite: $("dest-overwrite").checked ? "true" : "false", remove_src: move ? "true" : "false" });
      await waitTask("CopyMove", taskid, (s) => say((move ? "Moving… " : "Copying… ") + Math.round(100 * (s.progress || 0)) + " %"));
      say(move ? "Moved." : "Copied."); await refresh();
    });
  }
  $("copy-to").addEventListener("click", transfer(false));
  $("move-to").addEventListener("click", transfer(true));

  $("properties").addEventListener("click", () => attempt(async () => {
    const [entry] = selected();
    const path = entry ? entry.path : state.folder;
    const props = $("props");
    props.replaceChildren();
    const add = (term, value) => {
      const dt = document.createElement("dt"); dt.textContent = term;
      const dd = document.createElement("dd"); dd.textContent = value;
      props.append(dt, dd); return dd; };
    add("Name", path.split("/").pop());
    add("Location", path);
    const sizeCell = add("Size", "calculating…");
    const md5Cell = entry && !entry.isdir ? add("MD5", "calculating…") : null;
    $("props-dialog").showModal();
    const sized = await api("DirSize", "start", 2, { path });
    const total = await waitTask("DirSize", sized.taskid);
    sizeCell.textContent = size(total.total_size) + " (" + total.num_file + " files, " + total.num_dir + " folders)";
    if (md5Cell) {
      const started = await api("MD5", "start", 2, { file_path: path });
      md5Cell.textContent = (await waitTask("MD5", started.taskid)).md5;
      md5Cell.id = "md5-value";
    }
  }));

  let linkId = null;
  $("share-link").addEventListener("click", () => attempt(async () => {
    const [entry] = selected();
    if (!entry) { say("Select a file or folder to share.", true); return; }
    const made = await api("Sharing", "create", 3, { path: entry.path });
    const link = made.links[0];
    if (link.error) throw new Error(describe({ code: link.error }));
    linkId = link.id;
    $("link-url").value = link.url;
    $("link-dialog").showModal();
  }));
  $("link-copy").addEventListener("click", async () => {
    $("link-url").select();
    try { await navigator.clipboard.writeText($("link-url").value); say("Link copied."); }
    catch (err) { document.execCommand("copy"); say("Link copied."); }
  });
  $("link-revoke").addEventListener("click", () => attempt(async () => {
    if (!linkId) return;
    await api("Sharing", "delete", 3, { id: linkId });
    linkId = null;
    $("link-dialog").close();
    say("The link was revoked: it no longer opens.");
  }));

  $("search").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    attempt(async () => {
      const pattern = event.target.value.trim();
      if (!pattern) { await open(state.folder); return; }
      const folder = "/" + state.folder.split("/")[1];
      const { taskid } = await api("Search", "start", 2, { folder_path: folder, pattern });
      for (;;) {
        const found = await api("Search", "list", 2, { taskid, limit: "1" });
        if (found.finished) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      state.search = taskid;
      await refresh();
      say(state.entries.length + " found for “" + pattern + "”.");
    });
  });

  attempt(loadShares);
})();
