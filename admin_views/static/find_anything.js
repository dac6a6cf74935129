// The search box on every page: `/` or Ctrl/⌘-K opens it, answers come as staff type (from the
// JSON door, with the session cookie), up/down/Enter choose a hit, Esc closes.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var MIN_CHARACTERS = 2;

  function typingInField(target) {
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    return tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("find-box");
    if (!box) {
      return;
    }
    var input = document.getElementById("find-box-q");
    var results = document.getElementById("find-box-results");
    var status = document.getElementById("find-box-status");
    var api = box.getAttribute("data-api");
    var timer = null;
    var asked = 0;
    var active = -1;

    function options() {
      return Array.prototype.slice.call(results.querySelectorAll("[role=option]"));
    }

    function choose(index) {
      var all = options();
      all.forEach(function (option) {
        option.classList.remove("active");
        option.setAttribute("aria-selected", "false");
      });
      active = all.length ? (index + all.length) % all.length : -1;
      if (active >= 0) {
        all[active].classList.add("active");
        all[active].setAttribute("aria-selected", "true");
        all[active].scrollIntoView({ block: "nearest" });
        input.setAttribute("aria-activedescendant", all[active].id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      if (!box.open) {
        box.showModal();
      }
      input.focus();
      input.select();
    }

    function option(href, className, id) {
      var link = element("a", className);
      link.href = href;
      link.id = id;
      link.setAttribute("role", "option");
      link.setAttribute("aria-selected", "false");
      return link;
    }

    function render(findings) {
      results.textContent = "";
      var count = 0;
      findings.groups.forEach(function (group) {
        var section = element("div", "find-box-group");
        section.setAttribute("data-table", group.table);
        section.appendChild(element("div", "find-box-group-title", group.title));
        if (group.searching) {
          section.appendChild(element("div", "find-box-searching", "Still searching…"));
        }
        group.hits.forEach(function (hit) {
          var link = option(hit.url, "find-box-hit", "find-hit-" + count++);
          link.appendChild(element("span", "find-box-label", hit.label));
          if (hit.badge) {
            link.appendChild(element("span", "badge bg-" + hit.colour + "-lt", hit.badge.replace(/_/g, " ")));
          }
          section.appendChild(link);
        });
        var seeAll = option(group.see_all, "find-box-see-all", "find-hit-" + count++);
        seeAll.textContent = "See all in " + group.list_name.toLowerCase() + (group.more ? " (more match)" : "");
        section.appendChild(seeAll);
        results.appendChild(section);
      });
      status.textContent = findings.groups.length ? "" : "Nothing found in the tables your role opens.";
      input.setAttribute("aria-expanded", findings.groups.length ? "true" : "false");
      choose(0);
    }

    function ask() {
      var term = input.value.trim();
      var mine = ++asked;
      if (term.length < MIN_CHARACTERS) {
        results.textContent = "";
        status.textContent = "";
        active = -1;
        return;
      }
      status.textContent = "Searching…";
      fetch(api + "?q=" + encodeURIComponent(term), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
        })
        .then(function (answer) {
          if (mine !== asked) {
            return; // a later keystroke's answer is the one to show
          }
          if (answer.ok) {
            render(answer.body);
            return;
          }
          results.textContent = "";
          active = -1;
          status.textContent = answer.status === 401 ? "Your session ended: sign in again." : answer.body.message;
        })
        .catch(function () {
          if (mine === asked) {
            status.textContent = "The search did not answer; try again.";
          }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        choose(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Escape") {
        // A search field's own Escape only clears it; Esc closes the box, as the help says.
        event.preventDefault();
        box.close();
      } else if (event.key === "Enter" && active >= 0 && options()[active]) {
        // A hit is chosen: open it; with none, the form opens the full answer.
        event.preventDefault();
        window.location.href = options()[active].href;
      }
    });

    // A click outside the box (on its backdrop) closes it.
    box.addEventListener("click", function (event) {
      if (event.target === box) {
        box.close();
      }
    });

    document.querySelectorAll("[data-find-open]").forEach(function (button) {
      button.addEventListener("click", open);
    });

    document.addEventListener("keydown", function (event) {
      var commandK = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k";
      var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingInField(event.target);
      if (commandK || slash) {
        event.preventDefault();
        open();
      }
    });
  });
})();
