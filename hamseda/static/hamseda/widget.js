/* Hamseda's embeddable sign form, for partners' websites (docs/api-widget.md).
 *
 * The partner's page holds a link and this script:
 *
 *   <a class="hamseda-petition" href="https://INSTALL/p/SLUG/" data-petition="SLUG"
 *      data-lang="fa" data-colour="#1f6f5c" data-accent="#f2c14e">Sign the petition</a>
 *   <script src="https://INSTALL/widget.js" async></script>
 *
 * Each such link gets an iframe of INSTALL/<lang>/embed/p/SLUG/ after it. The link is
 * hidden only once the frame's page has said how tall it is (embed.js posts its height),
 * so if anything fails (no network, an unknown petition, a blocked frame, an old
 * browser) the reader still has the link. Without JavaScript the link is all there is.
 *
 * Made for pages with a strict Content-Security-Policy: no eval, no inline code, no
 * <style> element, no markup parsed from strings (so Trusted Types are fine); sizes are
 * set through element.style, which CSP allows. It only needs `script-src` and
 * `frame-src` to allow this install's origin.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || !window.URL || !window.postMessage) return;
  var origin = new URL(script.src).origin;

  // Our languages, and the codes a page may use for them (ISO 639-1 and -3).
  var LANGUAGES = { en: "en", fa: "fa", prs: "fa", ps: "ps", pus: "ps", pbt: "ps", pst: "ps" };
  var HEX = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i;
  var SLUG = /^[-a-zA-Z0-9_]+$/;
  var SANDBOX = "allow-forms allow-scripts allow-same-origin allow-popups " +
    "allow-popups-to-escape-sandbox";
  var frames = [];

  function language(link) {
    var wanted = link.getAttribute("data-lang") || document.documentElement.lang || "";
    return LANGUAGES[wanted.toLowerCase().split("-")[0]] || "en";
  }

  function colour(link, names) {
    for (var i = 0; i < names.length; i++) {
      var match = HEX.exec((link.getAttribute(names[i]) || "").trim());
      if (match) return match[1].toLowerCase();
    }
    return "";
  }

  function address(link) {
    var slug = link.getAttribute("data-petition") || "";
    if (!SLUG.test(slug)) return null;
    var lang = language(link);
    var url = new URL((lang === "en" ? "" : "/" + lang) + "/embed/p/" + slug + "/", origin);
    var main = colour(link, ["data-colour", "data-color"]);
    var accent = colour(link, ["data-accent"]);
    if (main) url.searchParams.set("colour", main);
    if (accent) url.searchParams.set("accent", accent);
    return url.href;
  }

  function embed(link) {
    if (link.hasAttribute("data-hamseda-embedded")) return;
    var src = address(link);
    if (!src) return;
    link.setAttribute("data-hamseda-embedded", "");
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = (link.getAttribute("data-title") || link.textContent || "").trim() ||
      "Sign the petition";
    frame.className = "hamseda-petition-frame";
    frame.loading = "lazy";
    // The partner's page is none of our business: not even its address.
    frame.referrerPolicy = "no-referrer";
    frame.setAttribute("sandbox", SANDBOX);
    var style = frame.style;
    style.display = "block";
    style.width = "100%";
    style.border = "0";
    style.height = "0"; // Until the page inside says how tall it is.
    link.parentNode.insertBefore(frame, link.nextSibling);
    frames.push({ frame: frame, link: link });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== "hamseda:embed-height") return;
    var height = Number(data.height);
    if (!(height > 0 && height < 20000)) return;
    for (var i = 0; i < frames.length; i++) {
      var entry = frames[i];
      if (entry.frame.contentWindow !== event.source) continue;
      entry.frame.style.height = Math.ceil(height) + "px";
      // The frame works: now the link may go.
      entry.link.style.display = "none";
      // The answer to the form starts at the frame's top: bring it into view if the
      // signer has scrolled past it (a long form on a phone).
      if (data.reveal === true && entry.frame.getBoundingClientRect().top < 0) {
        entry.frame.scrollIntoView({ block: "start" });
      }
    }
  });

  function start() {
    var links = document.querySelectorAll("a.hamseda-petition[data-petition]");
    for (var i = 0; i < links.length; i++) embed(links[i]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
