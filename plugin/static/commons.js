// Learning Commons: shared page behaviour inside the LMS iframe.
// Tells the LMS the page height (lti.frameResize) whenever it changes.
(function () {
  "use strict";
  var last = 0;
  function postHeight() {
    // The content's own height: the document's scrollHeight never drops below the frame's current
    // height, so a frame sized for a long page would never shrink back for a short one.
    var body = document.body;
    var bottom = body.getBoundingClientRect().bottom + window.scrollY;
    var margin = parseFloat(window.getComputedStyle(body).marginBottom) || 0;
    var height = Math.ceil(bottom + margin);
    if (height === last || window.parent === window) { return; }
    last = height;
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }
  window.addEventListener("load", postHeight);
  if (window.ResizeObserver) {
    new ResizeObserver(postHeight).observe(document.body);
  } else {
    window.addEventListener("resize", postHeight);
  }
  window.commonsFrameHeight = function () { last = 0; postHeight(); };
})();
// Learning Commons: keeps the page's URL token fresh (pages whose links carry ?lc=, i.e. where the
// browser does not send the launch cookie; see docs/security.md). The token in the links lives a few
// minutes; the page token (in the meta tag, never in an address) lives as long as the launch, so
// before a link or a GET form is used with a stale token, a fresh one is fetched and written into
// every link, every GET form and the address bar (so reloading the page works too).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="commons-url-token"]');
  if (!meta || !window.fetch || !window.URL) { return; }
  var refreshUrl = meta.getAttribute("data-refresh");
  var pageToken = meta.getAttribute("data-token");
  var lifetime = parseInt(meta.getAttribute("content"), 10) || 0;
  var renewAt = Date.now() + (lifetime * 1000) / 2;
  var pending = null;

  function stale() { return Date.now() >= renewAt; }

  function withToken(href, token) {
    var url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin || !url.searchParams.has("lc")) { return null; }
    url.searchParams.set("lc", token);
    return url.href;
  }

  function apply(token) {
    var links = document.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i += 1) {
      var href = withToken(links[i].getAttribute("href"), token);
      if (href) { links[i].setAttribute("href", href); }
    }
    var fields = document.querySelectorAll('form input[type="hidden"][name="lc"]');
    for (var j = 0; j < fields.length; j += 1) {
      var form = fields[j].form;
      if (form && (form.getAttribute("method") || "get").toLowerCase() === "get") {
        fields[j].value = token;
      }
    }
    var here = withToken(window.location.href, token);
    if (here && window.history && window.history.replaceState) {
      window.history.replaceState(window.history.state, "", here);
    }
  }

  function refresh() {
    if (!pending) {
      pending = fetch(refreshUrl, {
        method: "POST",
        headers: { "X-Commons-Token": pageToken, "Accept": "application/json" },
        credentials: "omit"
      }).then(function (response) {
        if (!response.ok) { throw new Error("url token " + response.status); }
        return response.json();
      }).then(function (data) {
        apply(data.lc);
        lifetime = data.expires_in;
        renewAt = Date.now() + (lifetime * 1000) / 2;
      }).catch(function () {
        renewAt = Date.now() + 30000;  // try again later; the server says if the launch ended
      }).then(function () { pending = null; });
    }
    return pending;
  }

  function keepFresh() { if (stale()) { refresh(); } }

  // A link or GET form used with a stale token waits for a fresh one first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || !stale() || event.defaultPrevented || event.button !== 0 ||
        event.ctrlKey || event.metaKey || event.shiftKey || event.altKey ||
        (link.target && link.target !== "_self") ||
        !withToken(link.getAttribute("href"), "x")) { return; }
    event.preventDefault();
    refresh().then(function () { window.location.assign(link.href); });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!stale() || event.defaultPrevented ||
        (form.getAttribute("method") || "get").toLowerCase() !== "get" ||
        !form.querySelector('input[name="lc"]')) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    refresh().then(function () {
      if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
    });
  });
  // ... and the page renews them while it is open, so even a reload finds a live token.
  window.setInterval(keepFresh, Math.min(30000, Math.max(1000, lifetime * 250)));
  document.addEventListener("visibilitychange", keepFresh);
  window.addEventListener("pageshow", keepFresh);
})();
