// Idle expiry of an open page (REM SC.SSI/IE.39): when the session's idle time has passed, the page stops
// showing patient data without a click. The page counts down from its last user request; when the count
// ends it asks the server (a background request, which does not restart the clock) how much is left,
// since another tab may have been used meanwhile, and either waits again or removes its content and goes
// to the login page, coming back to this page after signing in.
(function () {
  "use strict";
  var config = document.currentScript.dataset;
  var idleSeconds = Number(config.idleSeconds || 0);
  if (!idleSeconds) {
    return;
  }
  var timer = null;

  function wait(seconds) {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(seconds, 1) * 1000);
  }

  function lock() {
    var notice = document.createElement("p");
    notice.className = "idle-lock";
    notice.setAttribute("role", "alert");
    notice.textContent = config.idleMessage;
    document.body.replaceChildren(notice);
    var next = window.location.pathname + window.location.search;
    window.location.replace(config.loginUrl + "?expiree=1&next=" + encodeURIComponent(next));
  }

  function check() {
    fetch(config.idleStateUrl, {
      headers: { "X-DPI-Background": "1" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        return response.ok ? response.json() : { remaining: 0 };
      })
      .then(function (state) {
        if (state.remaining > 2) {
          wait(state.remaining);
        } else {
          lock();
        }
      })
      .catch(lock);
  }

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var headers = (event.detail.requestConfig || {}).headers || {};
    if (!headers["X-DPI-Background"]) {
      wait(idleSeconds);
    }
  });
  wait(idleSeconds);
})();
