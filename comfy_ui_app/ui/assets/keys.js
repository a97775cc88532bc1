// Ctrl+Enter (⌘+Enter on macOS) in a text box of a generating tab presses that tab's Generate
// (ui/_actions.py: the bar of class "generate-bar", the button "<tab>-generate"); nothing when the
// button is disabled (ComfyUI not reachable) or no bar is shown.
(function () {
  "use strict";

  function shown(el) {
    return !!el && el.offsetParent !== null && el.getClientRects().length > 0;
  }

  function generateButton(target) {
    // the shown bar of the tab the text box is in (a box outside every tab, the page's header: none)
    const bar = Array.from(document.querySelectorAll(".generate-bar")).filter(shown).find((b) => {
      const panel = b.closest("[role='tabpanel']");
      return panel !== null && panel.contains(target);
    });
    return bar ? bar.querySelector("button[id$='-generate']") : null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey || event.isComposing) {
      return;
    }
    const target = event.target;
    if (!(target instanceof HTMLTextAreaElement || target instanceof HTMLInputElement)) {
      return;
    }
    const button = generateButton(target);
    if (!button || button.disabled || !shown(button)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    button.click();
  }, true);
})();
