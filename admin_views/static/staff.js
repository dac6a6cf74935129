// SwipeSavvy Admin: CSRF on every change, actions as POST, toasts, "Go back" and Copy buttons without inline script.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";

  function addTokenTo(form) {
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") {
      return;
    }
    if (form.querySelector('input[name="csrf_token"]')) {
      return;
    }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "csrf_token";
    input.value = csrfToken;
    form.appendChild(input);
  }

  // Actions change data, so they are POST requests carrying the token, never links.
  function postAction(url, pks) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url.split("?")[0];
    var query = url.indexOf("?") >= 0 ? new URLSearchParams(url.split("?")[1]) : null;
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "pks";
    field.value = pks !== null ? pks : (query ? query.get("pks") || "" : "");
    form.appendChild(field);
    addTokenTo(form);
    document.body.appendChild(form);
    form.submit();
  }

  function searchFor(term) {
    var params = new URLSearchParams(window.location.search);
    ["page", "after", "before", "search"].forEach(function (name) {
      params.delete(name);
    });
    if (term) {
      params.set("search", term);
    }
    var query = params.toString();
    window.location.href = window.location.pathname + (query ? "?" + query : "");
  }

  function selectedPks() {
    var pks = [];
    document.querySelectorAll(".select-box:checked").forEach(function (box) {
      var value = box.parentElement.querySelector('input[type="hidden"]');
      if (value) {
        pks.push(value.value);
      }
    });
    return pks.join(",");
  }

  // The Clipboard API where the page may use it (HTTPS or localhost); else the older
  // copy of a selection; else the text left selected for the staff member to copy.
  function copyText(box, button) {
    var text = box.value !== undefined ? box.value : box.textContent;
    var status = document.querySelector('[data-copy-status="' + box.id + '"]');
    function said(message, copied) {
      if (status) {
        status.textContent = message;
        status.classList.toggle("text-success", copied);
        status.classList.toggle("text-secondary", !copied);
      }
      var label = button.querySelector("[data-copy-label]");
      if (label && copied) {
        label.textContent = "Copied";
        window.setTimeout(function () {
          label.textContent = "Copy";
        }, 2000);
      }
    }
    function bySelection() {
      box.focus();
      box.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      said(copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy it.", copied);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        said("Copied.", true);
      }, bySelection);
    } else {
      bySelection();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(addTokenTo);

    if (window.jQuery) {
      // SQLAdmin's own delete requests go through jQuery.ajax.
      window.jQuery(document).ajaxSend(function (_event, xhr) {
        xhr.setRequestHeader("X-CSRF-Token", csrfToken);
      });
      // Replace SQLAdmin's GET navigation for list actions with a POST.
      window.jQuery("[id^='action-custom-']").off("click").on("click", function (event) {
        event.preventDefault();
        postAction(this.getAttribute("data-url"), selectedPks());
      });
      // A new search starts the list again at its first page (SQLAdmin's keeps the page,
      // and a cursor from another search would point into rows it no longer shows).
      window.jQuery(document).off("click", "#search-button").on("click", "#search-button", function () {
        searchFor(window.jQuery("#search-input").val());
      });
      window.jQuery(document).off("click", "#search-reset").on("click", "#search-reset", function () {
        searchFor("");
      });
    }

    // Detail-page actions and their confirmation buttons are plain links to /action/; a
    // link marked data-action-page only opens an action's page (its GET changes nothing).
    document.addEventListener("click", function (event) {
      var link = event.target.closest('a[href*="/action/"]:not([data-action-page])');
      if (!link) {
        return;
      }
      event.preventDefault();
      postAction(link.getAttribute("href"), null);
    });

    // A list row's control that asks first (staff/row_confirm.html): its question and
    // its action go into the one dialog, whose "Yes" is then an action link like any other.
    var rowConfirm = document.getElementById("modal-row-confirm");
    if (rowConfirm) {
      rowConfirm.addEventListener("show.bs.modal", function (event) {
        var control = event.relatedTarget;
        rowConfirm.querySelector("[data-confirm-question]").textContent = control.getAttribute("data-confirm");
        rowConfirm.querySelector("[data-confirm-yes]").setAttribute("href", control.getAttribute("data-confirm-url"));
      });
    }

    // "Go back" on error pages: the browser's own history when there is one, else the link.
    document.querySelectorAll("[data-history-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) {
          event.preventDefault();
          window.history.back();
        }
      });
    });

    // Copy buttons (data-copy names the box whose text they copy): hidden in the page, so
    // without this script there is no button that does nothing; the text stays selectable.
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var box = document.getElementById(button.getAttribute("data-copy"));
      if (!box) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(box, button);
      });
    });

    document.querySelectorAll(".toast").forEach(function (element) {
      if (window.tabler && window.tabler.bootstrap) {
        new window.tabler.bootstrap.Toast(element, { delay: 4000 }).show();
      }
    });
  });
})();
