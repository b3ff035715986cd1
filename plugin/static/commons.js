// Learning Commons: shared page behaviour inside the LMS iframe.
// Tells the LMS the page height (lti.frameResize) whenever it changes.
(function () {
  "use strict";
  var last = 0;
  function postHeight() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last || window.parent === window) { return; }
    last = height;
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }
  window.addEventListener("load", postHeight);
  if (window.ResizeObserver) {
    new ResizeObserver(postHeight).observe(document.documentElement);
  } else {
    window.addEventListener("resize", postHeight);
  }
  window.commonsFrameHeight = function () { last = 0; postHeight(); };
})();
