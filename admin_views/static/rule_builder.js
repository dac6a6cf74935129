// The rule builder (templates/staff/widgets/rule_builder.html): rows added and removed,
// typed values turned into tags, the variant weights' running total, and JSON checked as it
// is typed. The form posts the same ordinary inputs with or without this script.
(function () {
  "use strict";

  function renumber(row, name, number) {
    var numbered = new RegExp("^" + name.replace(/[^\w]/g, "\\$&") + "-\\d+-");
    row.querySelectorAll("[name], [id]").forEach(function (element) {
      ["name", "id"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) {
          element.setAttribute(attribute, value.replace(numbered, name + "-" + number + "-"));
        }
      });
    });
  }

  function checkJson(box) {
    var message = box.parentNode.querySelector("[data-json-message]");
    var text = box.value.trim();
    var problem = "";
    if (text) {
      try {
        JSON.parse(text);
      } catch (error) {
        problem = box.getAttribute("data-not-json") + ": " + error.message;
      }
    }
    if (message) {
      message.textContent = problem;
    }
    box.classList.toggle("is-invalid", problem !== "");
  }

  function tagTexts(row) {
    return Array.prototype.map.call(row.querySelectorAll("[data-tag-text]"), function (text) {
      return text.textContent;
    });
  }

  function addTags(input) {
    var row = input.closest("[data-row]");
    input.value.split(",").forEach(function (typed) {
      var text = typed.trim();
      if (!text || tagTexts(row).indexOf(text) >= 0) {
        return;
      }
      var tag = document.createElement("span");
      tag.className = "rb-tag";
      tag.setAttribute("data-tag", "");
      var kept = document.createElement("input");
      kept.type = "checkbox";
      kept.className = "rb-tag-check";
      kept.name = input.name; // posted as typed, with the row's other new values
      kept.value = text;
      kept.checked = true;
      kept.tabIndex = -1;
      var shown = document.createElement("span");
      shown.setAttribute("data-tag-text", "");
      shown.textContent = text;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "rb-tag-remove";
      remove.setAttribute("data-remove-tag", "");
      remove.setAttribute("aria-label", "Remove " + text);
      remove.textContent = "×";
      tag.append(kept, shown, remove);
      input.parentNode.insertBefore(tag, input);
    });
    input.value = "";
  }

  function setUp(builder) {
    var name = builder.getAttribute("data-name");
    var rows = builder.querySelector("[data-rows]");
    var blank = rows.querySelector("[data-blank]");
    // The blank row is for adding without the script: here it is the model of new rows.
    var model = blank ? blank.cloneNode(true) : null;
    if (blank) {
      blank.remove();
    }
    var next = rows.querySelectorAll("[data-row]").length + 1;
    builder.classList.add("rb-js");

    function total() {
      var shown = builder.querySelector("[data-total]");
      if (!shown) {
        return;
      }
      var sum = 0;
      var whole = true;
      var weights = builder.querySelectorAll("[data-weight]");
      weights.forEach(function (weight) {
        var text = weight.value.trim();
        if (/^\d+$/.test(text)) {
          sum += parseInt(text, 10);
        } else if (text !== "") {
          whole = false;
        }
      });
      // No variants, no total: "0% of 100%" would read as a mistake to mend.
      shown.hidden = weights.length === 0;
      var wanted = parseInt(shown.getAttribute("data-weights"), 10);
      var right = whole && sum === wanted;
      shown.querySelector("[data-total-value]").textContent = whole ? String(sum) : "?";
      shown.classList.toggle("text-danger", weights.length > 0 && !right);
      shown.classList.toggle("text-success", weights.length > 0 && right);
    }

    function changed() {
      var empty = builder.querySelector("[data-empty]");
      if (empty) {
        empty.hidden = rows.querySelector("[data-row]") !== null;
      }
      total();
    }

    var add = builder.querySelector("[data-add-row]");
    if (add && model) {
      add.addEventListener("click", function () {
        var row = model.cloneNode(true);
        row.removeAttribute("data-blank");
        renumber(row, name, next);
        next += 1;
        rows.appendChild(row);
        changed();
        row.querySelector("input, textarea").focus();
      });
    } else if (add) {
      add.hidden = true;
    }

    builder.addEventListener("click", function (event) {
      var removeTag = event.target.closest("[data-remove-tag]");
      if (removeTag) {
        removeTag.closest("[data-tag]").remove();
        return;
      }
      var removeRow = event.target.closest("[data-remove-row]");
      if (removeRow) {
        removeRow.closest("[data-row]").remove();
        changed();
        return;
      }
      if (event.target.matches("[data-tags]")) {
        event.target.querySelector("[data-tag-input]").focus();
      }
    });

    builder.addEventListener("keydown", function (event) {
      var input = event.target;
      if (!input.matches("[data-tag-input]")) {
        return;
      }
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault();
        addTags(input);
      } else if (event.key === "Backspace" && input.value === "") {
        var tags = input.closest("[data-tags]").querySelectorAll("[data-tag]");
        if (tags.length) {
          tags[tags.length - 1].remove();
        }
      }
    });

    builder.addEventListener("input", function (event) {
      if (event.target.matches("[data-tag-input]") && event.target.value.indexOf(",") >= 0) {
        addTags(event.target); // a pasted list
      } else if (event.target.matches("[data-weight]")) {
        total();
      }
    });

    builder.addEventListener("focusout", function (event) {
      if (event.target.matches("[data-tag-input]")) {
        addTags(event.target);
      }
    });

    changed();
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-json-box]")) {
      checkJson(event.target);
    }
  });

  document.querySelectorAll("[data-rule-builder]").forEach(setUp);
})();
