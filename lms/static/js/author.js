// Live lesson preview: posts the editor's text to the server, which renders it with the same sanitising
// Markdown code learners see. Without JavaScript the "Preview" button does the same by a normal submit.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var editor = document.querySelector("textarea[data-preview-url]");
    var target = document.getElementById("lesson-preview");
    if (!editor || !target) { return; }
    var form = editor.form;
    var timer = null;
    function refresh() {
      var body = new FormData();
      body.append("content", editor.value);
      body.append("path", form.querySelector("[name=path]").value);
      var token = form.querySelector("input[name=csrf_token]");
      if (token) { body.append("csrf_token", token.value); }
      fetch(editor.getAttribute("data-preview-url"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { target.innerHTML = html; } })
        .catch(function () { /* keep the last preview */ });
    }
    editor.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  });
})();
