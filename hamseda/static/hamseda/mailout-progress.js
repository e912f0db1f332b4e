// Live numbers on a mail-out's page while it sends: every two seconds the page asks
// progress.json (same origin, never cached) and puts the numbers in. Without
// JavaScript the page shows the numbers as of loading it, and a "Refresh" link.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || box.dataset.state !== "running" || !window.fetch) return;
  var url = box.dataset.progressUrl;
  var numbers = ["total", "queued", "sent", "bounced", "failed", "skipped"];
  // The server writes numbers with English digit grouping (humanize's intcomma).
  var format = new Intl.NumberFormat("en-US");

  function field(name) {
    return box.querySelector('[data-field="' + name + '"]');
  }

  function show(data) {
    numbers.forEach(function (name) {
      var element = field(name);
      if (element && typeof data[name] === "number") {
        element.textContent = format.format(data[name]);
      }
    });
    var label = field("state_label");
    if (label && data.state_label) label.textContent = data.state_label;
    var error = field("last_error");
    if (error) {
      error.textContent = data.last_error || "";
      error.hidden = !data.last_error;
    }
    box.dataset.state = data.interrupted ? "interrupted" : data.state;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.state === "running" && !data.interrupted) {
          window.setTimeout(poll, 2000);
          return;
        }
        // Done, paused, cancelled or interrupted: the numbers no longer move, and what
        // only fits a sending mail-out (the pause button) goes. "Refresh" brings the
        // buttons that fit the new state.
        document.querySelectorAll("[data-while-running]").forEach(function (element) {
          element.hidden = true;
        });
      })
      .catch(function () {
        // A network hiccup: try again a little later.
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 2000);
})();
