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
