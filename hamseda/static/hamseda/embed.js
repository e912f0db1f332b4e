/* The embedded sign form's page (api/embed*.html, docs/api-widget.md).
 *
 * 1. In a frame, tell the partner's page how tall this page is, whenever that changes
 *    (widget.js sizes the frame to it), and after the form was sent, that its top should
 *    be in view. The message is a number only, so it may go to
 *    whichever page framed us ("*"): we do not know the partner's origin, and nothing
 *    in it is worth keeping from them.
 * 2. Keep the count live: ask the count API (same origin, no cookies) every 30 seconds
 *    while the page is visible. Without JavaScript the count stays as rendered.
 */
(function () {
  "use strict";

  // An answer to the form (errors, "check your inbox") begins at the top of the frame,
  // which may be above the partner's window by now: the first message asks to show it.
  var reveal = document.body.hasAttribute("data-embed-result");
  var lastHeight = 0;
  function postHeight() {
    if (window.parent === window) return;
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
    var message = { type: "hamseda:embed-height", height: height, reveal: reveal };
    window.parent.postMessage(message, "*");
    reveal = false;
  }
  if (window.parent !== window) {
    if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.documentElement);
    window.addEventListener("load", postHeight);
    postHeight();
  }

  var box = document.querySelector("[data-count-url]");
  if (!box || !window.fetch) return;
  var number = box.querySelector("[data-count]");
  var words = box.querySelector("[data-count-words]");
  var bar = box.querySelector("progress");
  // The server's thousands separator ("1,000" in English; none in Dari and Pashto).
  var sample = box.getAttribute("data-thousands") || "";
  var separator = sample.length === 5 ? sample.charAt(1) : "";

  function format(n) {
    var digits = String(n);
    return separator ? digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator) : digits;
  }

  function show(count) {
    number.textContent = format(count);
    words.textContent = words.getAttribute(count === 1 ? "data-one" : "data-other");
    // Past the goal shown, the bar is simply full until the page is loaded again.
    if (count > bar.max) bar.max = count;
    bar.value = count;
    postHeight();
  }

  var timer = null;
  function poll() {
    if (document.hidden) return;
    fetch(box.getAttribute("data-count-url"), { credentials: "omit" })
      .then(function (response) {
        // No count API here: the rendered count stays, and we stop asking.
        if (response.status === 404) clearInterval(timer);
        if (!response.ok) throw new Error("count " + response.status);
        return response.json();
      })
      .then(function (data) {
        var count = Number(data.signature_count);
        if (Number.isInteger(count) && count >= 0) show(count);
      })
      .catch(function () {}); // Offline for a moment: try again at the next turn.
  }
  timer = setInterval(poll, 30000);
})();
