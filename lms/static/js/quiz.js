// Quiz enhancements: autosave, a timer announced to screen readers, and a confirmation before submitting.
// The quiz works without this file: every answer is also sent with the form.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) { return; }
  var status = document.querySelector("[data-autosave-status]");
  var saveUrl = form.getAttribute("data-autosave");
  var timer = null;
  var submitting = false;

  function setStatus(text) { if (status) { status.textContent = text; } }

  function save() {
    if (!saveUrl) { return Promise.resolve(); }  // an author's preview: nothing is stored
    var data = new FormData(form);
    return fetch(saveUrl, {
      method: "POST",
      body: data,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) {
          var when = new Date(body.saved_at);
          setStatus("All answers saved at " + when.toLocaleTimeString() + ".");
        } else {
          setStatus(body.error || "Could not save. Your answers are still on this page.");
        }
      });
    }).catch(function () {
      setStatus("You seem to be offline. Your answers will be saved when the connection returns.");
    });
  }

  form.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 400);
  });
  form.addEventListener("input", function (event) {
    if (event.target.matches("input[type=text], textarea")) {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 1500);
    }
  });
  window.addEventListener("online", save);

  // The server counts every question (some may be on other pages); the questions on this page are
  // recounted from what the learner has entered now.
  function unanswered() {
    var total = parseInt(form.getAttribute("data-unanswered") || "0", 10);
    form.querySelectorAll("[data-question]").forEach(function (block) {
      var answered = false;
      block.querySelectorAll("input, select, textarea").forEach(function (el) {
        if (el.type === "hidden" || el.type === "submit" || el.type === "button") { return; }
        if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") { answered = true; }
      });
      if (block.getAttribute("data-answered") !== "true") { total -= 1; }
      if (!answered) { total += 1; }
    });
    return Math.max(0, total);
  }

  var counter = form.querySelector("[data-unanswered-text]");
  function updateCounter() {
    if (!counter) { return; }
    var missing = unanswered();
    var text = missing > 0
      ? missing + " question" + (missing === 1 ? "" : "s") + " not answered yet."
      : "All questions answered.";
    if (counter.textContent !== text) { counter.textContent = text; }  // announce changes only
  }
  form.addEventListener("change", updateCounter);
  form.addEventListener("input", updateCounter);

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitting || !submitter || !submitter.hasAttribute("data-final-submit")) { return; }
    var missing = unanswered();
    var message = missing > 0
      ? "You have " + missing + " unanswered question" + (missing === 1 ? "" : "s") + ". Submit anyway? You cannot change your answers afterwards."
      : "Submit your answers? You cannot change them afterwards.";
    if (!window.confirm(message)) { event.preventDefault(); return; }
    submitting = true;
  });

  // Timer: visible countdown, announced every 5 minutes and in the last minute; submits at zero.
  var box = document.querySelector("[data-timer]");
  if (box) {
    var left = parseInt(box.getAttribute("data-seconds-left"), 10);
    var valueEl = box.querySelector("[data-timer-value]");
    var announce = box.querySelector("[data-timer-announce]");
    var end = Date.now() + left * 1000;
    var tick = function () {
      var seconds = Math.max(0, Math.round((end - Date.now()) / 1000));
      var minutes = Math.floor(seconds / 60);
      var rest = seconds % 60;
      valueEl.textContent = minutes + ":" + (rest < 10 ? "0" : "") + rest;
      if (seconds <= 60) { box.classList.add("timer-low"); }
      if (seconds > 0 && (seconds % 300 === 0 || seconds === 60 || seconds === 30)) {
        announce.textContent = (minutes ? minutes + " minutes" : seconds + " seconds") + " left.";
      }
      if (seconds === 0) {
        window.clearInterval(interval);
        announce.textContent = "Time is up. Submitting your saved answers.";
        submitting = true;
        form.submit();
      }
    };
    var interval = window.setInterval(tick, 1000);
    tick();
  }
})();
