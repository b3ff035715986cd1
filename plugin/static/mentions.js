// Learning Commons: @mention autocomplete for the board's post forms.
// Every textarea[name=body] becomes an editable combobox with a list popup (WAI-ARIA 1.2 combobox
// pattern): the textarea gets role=combobox, aria-autocomplete=list, aria-controls naming the
// listbox, aria-expanded saying whether the list is shown, and keeps DOM focus while
// aria-activedescendant points at the highlighted option (each option role=option with
// aria-selected). aria-expanded is only valid on the combobox role, not on a plain textbox,
// which is why the role is needed. A polite live region says how many people were found.
// Arrow keys move, Enter or Tab pick, Escape closes; with the list closed, every key (Enter too)
// types as usual. Without JavaScript, mentions typed by hand (@handle) work the same.
(function () {
  "use strict";
  var config = document.querySelector(".mention-config");
  if (!config || !window.fetch || window.commonsMentions) { return; }
  window.commonsMentions = true;  // once per page, even if the template is included twice
  var membersUrl = config.getAttribute("data-members-url");
  var token = config.getAttribute("data-token");
  var thread = config.getAttribute("data-thread");
  var TRIGGER;
  try {
    TRIGGER = new RegExp("(^|[^\\p{L}\\p{N}_@.])@([\\p{L}\\p{N}][\\p{L}\\p{N}.]{0,49})$", "u");
  } catch (e) {
    TRIGGER = /(^|[^A-Za-z0-9_@.])@([A-Za-z0-9][A-Za-z0-9.]{0,49})$/;
  }
  var live = document.createElement("div");
  live.className = "visually-hidden";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  document.body.appendChild(live);
  var count = 0;

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function resize() {
    if (window.commonsFrameHeight) { window.commonsFrameHeight(); }
  }

  function enhance(area) {
    if (area.getAttribute("data-mentions")) { return; }
    area.setAttribute("data-mentions", "on");
    count += 1;
    var listId = "mention-list-" + count;
    var box = document.createElement("div");
    box.className = "mention-box";
    area.parentNode.insertBefore(box, area);
    box.appendChild(area);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People to mention");
    list.hidden = true;
    box.appendChild(list);
    area.setAttribute("role", "combobox");
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", listId);
    area.setAttribute("aria-expanded", "false");
    var hint = document.createElement("p");
    hint.id = listId + "-hint";
    hint.className = "hint mention-hint";
    hint.textContent = "Type @ and the start of a name to mention someone in the course.";
    box.insertBefore(hint, list); // the open list then drops below the hint, not over it
    var described = area.getAttribute("aria-describedby");
    area.setAttribute("aria-describedby", (described ? described + " " : "") + hint.id);

    var items = [];
    var active = -1;
    var start = -1;
    var query = "";
    var dismissed = null;
    var timer = null;
    var sequence = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      area.setAttribute("aria-expanded", "false");
      area.removeAttribute("aria-activedescendant");
      resize();
    }

    function highlight(index) {
      active = index;
      for (var i = 0; i < list.children.length; i += 1) {
        list.children[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0 && list.children[index]) {
        area.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        area.removeAttribute("aria-activedescendant");
      }
    }

    function pick(index) {
      var member = items[index];
      if (!member || start < 0) { return; }
      var caret = area.selectionStart;
      var before = area.value.slice(0, start);
      var after = area.value.slice(caret);
      var inserted = "@" + member.handle + " ";
      area.value = before + inserted + after;
      var at = before.length + inserted.length;
      area.setSelectionRange(at, at);
      close();
      announce(member.name + " mentioned as @" + member.handle + ".");
      area.focus();
    }

    function show(members) {
      list.textContent = "";
      items = members;
      if (!members.length) {
        close();
        announce("No one in this course matches @" + query + ".");
        return;
      }
      members.forEach(function (member, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(document.createTextNode(member.name + " "));
        var handle = document.createElement("span");
        handle.className = "handle";
        handle.textContent = "@" + member.handle;
        option.appendChild(handle);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { pick(i); });
        list.appendChild(option);
      });
      list.hidden = false;
      area.setAttribute("aria-expanded", "true");
      highlight(0);
      announce(members.length + (members.length === 1 ? " person" : " people") +
        " found. Up and down arrows to choose, Enter to mention, Escape to close.");
      resize();
    }

    function lookup() {
      var mine = ++sequence;
      var params = new URLSearchParams({ q: query.replace(/\.+$/, "") });
      if (thread) { params.set("thread", thread); }
      if (!params.get("q")) { close(); return; }
      fetch(membersUrl + "?" + params.toString(), {
        headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
        credentials: "omit"
      }).then(function (response) {
        if (!response.ok) { throw new Error("members " + response.status); }
        return response.json();
      }).then(function (data) {
        if (mine === sequence && start >= 0) { show(data.members || []); }
      }).catch(function () {
        if (mine === sequence) { close(); }
      });
    }

    function onInput() {
      var caret = area.selectionStart;
      var match = TRIGGER.exec(area.value.slice(0, caret));
      if (!match) {
        start = -1;
        dismissed = null;
        window.clearTimeout(timer);
        if (!list.hidden) { close(); }
        return;
      }
      start = caret - match[2].length - 1;
      if (dismissed === start) { return; }
      dismissed = null;
      query = match[2];
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 150);
    }

    area.addEventListener("input", onInput);
    area.addEventListener("keydown", function (event) {
      if (list.hidden || !items.length) { return; }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + items.length) % items.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        dismissed = start;
        close();
        announce("Suggestions closed.");
      }
    });
    area.addEventListener("blur", function () {
      window.setTimeout(function () {
        if (document.activeElement !== area) { close(); }
      }, 150);
    });
  }

  var areas = document.querySelectorAll("textarea[name=body]");
  for (var i = 0; i < areas.length; i += 1) { enhance(areas[i]); }
})();
