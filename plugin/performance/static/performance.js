// Expand or collapse every branch of a competency tree.
(function () {
  "use strict";
  document.querySelectorAll("[data-tree-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-tree-toggle") === "open";
      var tree = document.getElementById(button.getAttribute("aria-controls"));
      tree.querySelectorAll("details").forEach(function (d) { d.open = open; });
      if (window.commonsFrameHeight) { window.commonsFrameHeight(); }
    });
  });
})();
