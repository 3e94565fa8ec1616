// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Mobile navigation toggle.
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }

    // Move focus to the first error summary so screen-reader users hear it.
    var summary = document.querySelector("[data-focus]");
    if (summary) { summary.focus(); }

    // Tables wider than the screen scroll in their own frame: say so, and let the keyboard reach them.
    var markScrollable = function () {
      document.querySelectorAll(".table-wrap").forEach(function (wrap) {
        var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
        wrap.classList.toggle("is-scrollable", scrolls);
        if (scrolls && !wrap.hasAttribute("tabindex")) { wrap.setAttribute("tabindex", "0"); }
        var hint = wrap.previousElementSibling;
        var hasHint = hint && hint.classList.contains("table-hint");
        if (scrolls && !hasHint) {
          hint = document.createElement("p");
          hint.className = "table-hint";
          hint.textContent = "Scroll the table sideways to see every column.";
          wrap.parentNode.insertBefore(hint, wrap);
        } else if (!scrolls && hasHint) {
          hint.remove();
        }
      });
    };
    markScrollable();
    window.addEventListener("resize", markScrollable);

    // Confirmation dialogs for destructive or final actions.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var message = form.getAttribute("data-confirm");
        if (message && !window.confirm(message)) { event.preventDefault(); }
      });
    });
  });
})();
