// "Your time: …" next to an event's times, in the reader's own time zone and language.
// The page shows the event's zone and UTC without JavaScript; this fills the hidden
// <time data-local> hooks that the {% event_times %} tag writes (actions/templatetags/
// action_dates.py) and shows them. Dari and Pashto pages ask Intl for fa-AF / ps-AF,
// which write the Solar Hijri calendar with Afghan month names.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat) return;
  var readerZone;
  try {
    readerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  document.querySelectorAll("time[data-local]").forEach(function (hook) {
    var start = new Date(hook.getAttribute("datetime"));
    var end = new Date(hook.dataset.end);
    if (isNaN(start.getTime()) || isNaN(end.getTime())) return;
    // A reader in the event's own zone already sees their time on the page.
    if (readerZone && readerZone === hook.dataset.zone) return;
    var locale = hook.dataset.locale || document.documentElement.lang || undefined;
    var format;
    try {
      format = new Intl.DateTimeFormat(locale, {
        weekday: "short",
        day: "numeric",
        month: "long",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
        timeZoneName: "short",
      });
    } catch (error) {
      return;
    }
    var text = format.formatRange ? format.formatRange(start, end) : format.format(start) + " – " + format.format(end);
    hook.textContent = hook.dataset.label + " " + text;
    var box = hook.closest("[hidden]");
    if (box) box.hidden = false;
  });
})();
