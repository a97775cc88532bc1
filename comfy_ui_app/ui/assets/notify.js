/* Tell the user when a run ends (ui/notify.py, ui/job_state.py).
 *
 * Every tab's progress line ends with a hidden mark while a run is on or has just ended:
 * <span class="job-state job-KIND" title="WORDS" hidden>, KIND one of queued, running (a run is
 * on) or done, failed, interrupted (it ended); the words are the server's, in the page's language.
 * This script never reads the progress line's own words.
 *
 * - The tab title starts with the running run's title ("[42%] ComfyUI", "[queued 3] ComfyUI").
 * - A run that ends while the tab is hidden leaves "✓ Done ComfyUI" / "✗ Failed ComfyUI" in the
 *   title until the tab is shown again, and shows a notification if the user turned on
 *   "Notify me" (#notify-when-done) and the browser allowed it (asked on that very click).
 * - "Sound" (#notify-sound) plays a short chime (WebAudio, no file) whenever a run ends.
 * Both switches are kept in localStorage and set again on load.
 */
(() => {
  "use strict";
  const SWITCHES = { "notify-when-done": "comfy_ui_app.notify", "notify-sound": "comfy_ui_app.notify_sound" };
  const ACTIVE = ["queued", "running"];
  const ENDED = ["done", "failed", "interrupted"];
  const blocks = new Map();       // a progress block (nearest element with an id) -> {kind, active}
  const restored = new WeakMap(); // a switch -> how often it was set again from localStorage
  let endedTitle = null;          // the title of a run that ended while the tab was hidden
  let base = null;                // the page's own title
  let written = null;             // the title this script wrote last
  let audio = null;
  let restoring = false;

  const isOn = (key) => { try { return localStorage.getItem(key) === "1"; } catch (e) { return false; } };
  const keep = (key, on) => { try { localStorage.setItem(key, on ? "1" : "0"); } catch (e) { /* private mode */ } };
  const notifyOn = () => isOn(SWITCHES["notify-when-done"]);
  const soundOn = () => isOn(SWITCHES["notify-sound"]);

  function kindOf(mark) {
    for (const name of mark.classList) {
      if (name.startsWith("job-") && name !== "job-state") return name.slice(4);
    }
    return null;
  }

  function marks() {
    const found = new Map();
    for (const mark of document.querySelectorAll(".job-state")) {
      const block = mark.parentElement && mark.parentElement.closest("[id]");
      if (block && !found.has(block)) found.set(block, mark);
    }
    return found;
  }

  // -- what the browser allows --------------------------------------------------------------

  function showBlocked() {
    const refused = !("Notification" in window) || Notification.permission === "denied";
    // on the switches' own column: Gradio scopes the page's CSS under .gradio-container, so a class on <html> is never seen
    const holder = document.getElementById("notify-controls");
    if (holder) holder.classList.toggle("notify-blocked", notifyOn() && refused);
  }

  function askPermission() {
    if (!("Notification" in window) || Notification.permission !== "default") return showBlocked();
    try {
      const asked = Notification.requestPermission(showBlocked);
      if (asked && asked.then) asked.then(showBlocked, showBlocked);
    } catch (e) { showBlocked(); }
  }

  function notify(mark) {
    if (!notifyOn() || !("Notification" in window) || Notification.permission !== "granted") return;
    const note = mark.querySelector(".job-note");
    const body = mark.querySelector(".job-body");
    try {
      const shown = new Notification(note ? note.title : mark.title,
        { body: body ? body.title : "", tag: "comfy-ui-app-job" });
      shown.onclick = () => { window.focus(); shown.close(); };
    } catch (e) { /* e.g. Chrome on Android: notifications only through a service worker */ }
  }

  // -- the chime --------------------------------------------------------------------------

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    if (audio.state === "suspended" && audio.resume) audio.resume().catch(() => {});
    return audio;
  }

  function chime(kind) {
    try {
      const context = audioContext();
      if (!context) return;
      const notes = kind === "done" ? [659.25, 987.77] : [440.0, 329.63]; // up for done, down otherwise
      const start = context.currentTime + 0.02;
      notes.forEach((frequency, i) => {
        const osc = context.createOscillator();
        const gain = context.createGain();
        const t = start + i * 0.15;
        osc.type = "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.6);
        osc.connect(gain);
        gain.connect(context.destination);
        osc.start(t);
        osc.stop(t + 0.65);
      });
    } catch (e) { /* no sound is no harm */ }
  }

  // A browser lets a page make sound only after a click or key on it: open the context then.
  function unlock() {
    if (soundOn()) { try { audioContext(); } catch (e) { /* none */ } }
  }

  // -- the tab title ----------------------------------------------------------------------

  function retitle(found) {
    if (written === null || document.title !== written) base = document.title;
    let prefix = null;
    for (const mark of found.values()) {
      if (ACTIVE.includes(kindOf(mark))) { prefix = mark.title; break; }
    }
    if (prefix === null && endedTitle !== null && document.hidden) prefix = endedTitle;
    const title = prefix ? prefix + " " + base : base;
    if (document.title !== title) document.title = title;
    written = title;
  }

  // -- following the marks ----------------------------------------------------------------

  function ended(mark, kind) {
    if (soundOn()) chime(kind);
    if (!document.hidden) return;
    endedTitle = mark.title;
    notify(mark);
  }

  function scan() {
    const found = marks();
    for (const [block, mark] of found) {
      const kind = kindOf(mark);
      const seen = blocks.get(block) || { kind: null, active: false };
      if (kind !== seen.kind) {
        if (ACTIVE.includes(kind)) seen.active = true;
        else if (ENDED.includes(kind) && seen.active) { seen.active = false; ended(mark, kind); }
        seen.kind = kind;
      }
      blocks.set(block, seen);
    }
    for (const [block, seen] of blocks) {
      if (!block.isConnected) blocks.delete(block);
      else if (!found.has(block)) seen.kind = null; // "Ready.", or a form refused: nothing runs there
    }
    retitle(found);
  }

  // The switches come back from localStorage. Gradio may draw a switch again with its first value
  // (unchecked) while the page loads, so a switch that differs from what was kept is set again
  // (the user's own clicks are kept at once: any difference is Gradio's), a few times at most.
  function restoreSwitches() {
    for (const [id, key] of Object.entries(SWITCHES)) {
      const box = document.querySelector("#" + id + " input[type=checkbox]");
      if (!box || box.disabled || isOn(key) === box.checked) continue;
      const tries = restored.get(box) || 0;
      if (tries >= 5) continue;
      restored.set(box, tries + 1);
      restoring = true;
      try { box.click(); } finally { restoring = false; }
    }
    showBlocked();
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    const holder = box.closest("#notify-when-done, #notify-sound");
    if (!holder) return;
    if (!restoring) keep(SWITCHES[holder.id], box.checked);
    if (holder.id === "notify-when-done" && box.checked && !restoring) askPermission();
    if (holder.id === "notify-sound" && box.checked && !restoring) unlock();
    showBlocked();
  }, true);
  document.addEventListener("pointerdown", unlock, true);
  document.addEventListener("keydown", unlock, true);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) endedTitle = null;
    retitle(marks());
  });

  // A drawing page changes its DOM many times a second: look at most every SCAN_MS then. A hidden
  // tab draws little and delays timers, so it looks at once.
  const SCAN_MS = 100;
  let due = false;
  function look() { due = false; restoreSwitches(); scan(); }
  new MutationObserver(() => {
    if (document.hidden) return look();
    if (!due) { due = true; setTimeout(look, SCAN_MS); }
  }).observe(document.documentElement, { childList: true, subtree: true });
  const settling = setInterval(restoreSwitches, 1000); // a reset that no DOM change follows
  setTimeout(() => clearInterval(settling), 30000);
})();
