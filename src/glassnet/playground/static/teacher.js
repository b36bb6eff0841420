/* The teacher's page: checkboxes that build a playground link (settings + name_hide=true + view + challenge). */
"use strict";
(async function () {
  const $ = (id) => document.getElementById(id);
  // the hideable controls, as the playground page itself lists them
  const page = new DOMParser().parseFromString(await (await fetch("/")).text(), "text/html");
  const names = page.querySelector('meta[name="glassnet-hideable"]').content.split(" ");
  for (const name of names) {
    const label = document.createElement("label"), box = document.createElement("input");
    label.className = "check";
    box.type = "checkbox"; box.value = name; box.dataset.hide = name;
    label.append(box, document.createTextNode(" " + name.replace(/_/g, " ")));
    $("hide").appendChild(label);
  }
  function build() {
    let params = new URLSearchParams();
    const from = $("from").value.trim();
    if (from.includes("#")) params = new URLSearchParams(from.split("#")[1]);
    for (const key of [...params.keys()]) if (key.endsWith("_hide") || key === "view" || key === "challenge") params.delete(key);
    document.querySelectorAll("#hide input:checked").forEach((box) => params.set(`${box.value}_hide`, "true"));
    if ($("view").value !== "train") params.set("view", $("view").value);
    const goal = Number($("challenge").value);
    if ($("challenge").value && goal > 0 && goal <= 1) params.set("challenge", String(goal));
    const link = `${location.origin}/#${params.toString()}`;
    $("link").value = link;
    $("open").href = link;
  }
  document.addEventListener("input", build);
  document.addEventListener("change", build);
  $("copy").onclick = async () => {
    try { await navigator.clipboard.writeText($("link").value); $("copied").textContent = "copied"; }
    catch (e) { $("link").select(); $("copied").textContent = "select and copy it (Ctrl+C)"; }
  };
  build();
  window.__teacher = { ready: true };
})();
