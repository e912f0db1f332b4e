// A "Copy" button next to the share link. Without JavaScript the link is still there, in
// a readonly box to select and copy by hand. The button's words come from the page
// (data-copy-label, data-copied-label), so they are translated like every other string.
(function () {
  "use strict";
  document.querySelectorAll(".copy-row").forEach(function (row) {
    var input = row.querySelector("input");
    if (!input) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = row.dataset.copyLabel;
    // Announce "Copied" to screen readers when the label changes.
    button.setAttribute("aria-live", "polite");
    row.appendChild(button);

    input.addEventListener("focus", function () {
      input.select();
    });

    function copied() {
      button.textContent = row.dataset.copiedLabel;
      window.setTimeout(function () {
        button.textContent = row.dataset.copyLabel;
      }, 4000);
    }

    function copyBySelection() {
      input.focus();
      input.select();
      try {
        if (document.execCommand("copy")) copied();
      } catch (error) {
        // Nothing else to try: the text stays selected for the reader to copy.
      }
    }

    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(copied, copyBySelection);
      } else {
        copyBySelection();
      }
    });
  });
})();
