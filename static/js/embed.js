// Inside a portal's frame: the frame's half of the conversation with the portal
// (static/embed/host.js is the other half). The frame tells the portal
//   invoice-manager:height         {height}  its content's height, to size the frame
//   invoice-manager:navigate       {path}    where the user is (without embed=1),
//                                            so the portal can keep it in its address
//   invoice-manager:session-ended  {path}    the single sign-on session ended
//   invoice-manager:signed-out     {path}    the sign-in form shows: nobody is signed in
//   invoice-manager:sign-in-refused {reason} /sso refused the portal's token
//   invoice-manager:sign-out-done            answer to the portal's sign-out
// and listens to the portal's
//   invoice-manager:hello                    "I listen, at this origin"
//   invoice-manager:sign-out                 sign the frame's user out (the
//                                            portal's user signs out)
//
// Messages go to ONE fixed origin, never "*": the portal's, which must be one of
// FRAME_ANCESTORS (rendered into data-parent-origins). With one allowed origin
// the browser's frame-ancestors check already guarantees the parent is that
// origin, so the frame posts to it at once. With several, the frame waits until
// its parent window says {type: "invoice-manager:hello"} from one of them, and
// from then on posts only to that origin. Nothing the portal sends is run or
// rendered: the hello only chooses among origins already allowed, and the
// sign-out can only end this frame's own session.
(function () {
  "use strict";
  if (window.parent === window) return;
  var PREFIX = "invoice-manager:";
  var allowed = (document.body.dataset.parentOrigins || "").split(" ").filter(Boolean);
  var hostOrigin = allowed.length === 1 ? allowed[0] : null;
  // A page that has something to tell the portal instead of "the user is here"
  // (session ended, sign-in form, refused token) says so in data-host-message.
  var notice = document.querySelector("[data-host-message]");
  var lastHeight = 0;
  var placeTold = null; // the origin this page's place (or notice) was told to

  function post(message) {
    if (hostOrigin) window.parent.postMessage(message, hostOrigin);
  }

  // The app's address as the portal should keep it: embed=1 is the frame's
  // business (host.js adds it back when it signs in).
  function appPath() {
    var query = new URLSearchParams(window.location.search);
    query.delete("embed");
    var rest = query.toString();
    return window.location.pathname + (rest ? "?" + rest : "");
  }

  function reportPlace() {
    if (!hostOrigin) return;
    placeTold = hostOrigin;
    if (notice) {
      post({
        type: PREFIX + notice.dataset.hostMessage,
        path: notice.dataset.path || "",
        reason: notice.dataset.reason || ""
      });
    } else {
      post({ type: PREFIX + "navigate", path: appPath() });
    }
  }

  // The body's height, not the document's: the document is never shorter than
  // the frame (the viewport), so a frame sized to it could grow but never
  // shrink, and any content sized to the viewport would grow it forever.
  function reportHeight(force) {
    var height = Math.ceil(document.body.scrollHeight);
    if (height === lastHeight && !force) return;
    lastHeight = height;
    post({ type: PREFIX + "height", height: height });
  }

  // POST /logout with this page's CSRF token (the one htmx sends too).
  function signOut() {
    var done = function () { post({ type: PREFIX + "sign-out-done" }); };
    var url = document.body.dataset.logoutUrl;
    if (!url) return done(); // nobody is signed in here
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch(url, { method: "POST", headers: headers, credentials: "same-origin" })
      .then(done, done);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || allowed.indexOf(event.origin) === -1) return;
    var data = event.data;
    if (!data) return;
    if (data.type === PREFIX + "hello") {
      hostOrigin = event.origin;
      // Said once per page: a second "session ended" would ask for a second renewal.
      if (placeTold !== hostOrigin) reportPlace();
      reportHeight(true);
    } else if (data.type === PREFIX + "sign-out") {
      hostOrigin = event.origin;
      signOut();
    }
  });

  new ResizeObserver(function () { reportHeight(false); }).observe(document.body);
  document.addEventListener("htmx:afterSettle", function () { reportHeight(false); });
  // htmx changes the address without loading a page: filters, sorting, pages.
  ["htmx:pushedIntoHistory", "htmx:replacedInHistory", "htmx:historyRestore"].forEach(
    function (name) { document.addEventListener(name, reportPlace); }
  );
  window.addEventListener("popstate", reportPlace);
  reportPlace();
  reportHeight(true);
})();
