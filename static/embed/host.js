// The Invoice Manager on a portal's page: the portal includes this file (from
// the Invoice Manager's own origin) and calls
//
//   var billing = InvoiceManager.mount(element, {
//     url: "https://billing.example.com",      // the app's origin (+ base path)
//     getToken: function () { ... },           // a Promise of a fresh token from
//                                              // the portal's own server
//     path: "/billing/invoices?status=DUE",     // where to open (default the list)
//     theme: "dark",                            // used when the token has no theme
//     onNavigate: function (path) { ... },      // the user moved inside the frame
//     onError: function (error) { ... },        // {code, message}: cannot sign in
//     title: "Invoices"                         // the frame's title (accessibility)
//   });
//   billing.navigate("/billing/invoices?status=PAID");
//   billing.signOut().then(...);  // before the portal's own sign-out
//   billing.destroy();
//
// It makes the frame, signs the user in by POSTing the token to /sso inside it
// (the token never appears in a URL), sizes the frame to the height the app
// reports, passes navigation on, and signs the user in again when the app says
// the session ended. Messages are accepted only from the app's origin and from
// this frame's window, and sent only to the app's origin. No dependencies, no
// build step. Paths are the app's own paths as its address bar shows them
// (including its base path, if it has one). docs/embedding.md says more.
(function () {
  "use strict";
  var PREFIX = "invoice-manager:";
  var LIST_PATH = "/billing/invoices";
  // A session that ends again this soon after it was renewed is a fault (a
  // blocked cookie, a wrong clock), not a reason to loop: onError instead.
  var RENEW_MIN_INTERVAL_MS = 10000;
  // Until the app reports its height.
  var INITIAL_HEIGHT_PX = 600;
  // signOut() resolves by then even if the frame does not answer.
  var SIGN_OUT_TIMEOUT_MS = 3000;
  var mounts = 0;

  function fieldOf(form, name) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    form.appendChild(input);
    return input;
  }

  function mount(element, options) {
    options = options || {};
    if (!element || typeof element.appendChild !== "function") {
      throw new TypeError("InvoiceManager.mount: an element to put the frame in is needed");
    }
    if (typeof options.getToken !== "function") {
      throw new TypeError("InvoiceManager.mount: getToken must be a function");
    }
    var app = new URL(String(options.url || ""), window.location.href);
    if (app.protocol !== "https:" && app.protocol !== "http:") {
      throw new TypeError("InvoiceManager.mount: url must be the app's http(s) address");
    }
    // The ONLY origin messages are accepted from and sent to.
    var origin = app.origin;
    var base = app.pathname.replace(/\/+$/, "");
    var defaultPath = base + LIST_PATH;
    var name = "invoice-manager-" + (++mounts) + "-" + Math.random().toString(36).slice(2);

    var frame = document.createElement("iframe");
    frame.name = name;
    frame.title = options.title || "Invoice Manager";
    frame.style.cssText = "display:block;width:100%;border:0;height:" +
      INITIAL_HEIGHT_PX + "px";
    // The sign-in form: hidden, posted into the frame by its name.
    var form = document.createElement("form");
    form.method = "post";
    // embed=1 on /sso too, so a refused token's page is in embed mode as well.
    form.action = origin + base + "/sso?embed=1";
    form.target = name;
    form.hidden = true;
    var tokenField = fieldOf(form, "token");
    var nextField = fieldOf(form, "next");
    if (options.theme) fieldOf(form, "theme").value = String(options.theme);
    element.appendChild(frame);
    element.appendChild(form);

    var state = {
      destroyed: false,
      appLoading: false, // the frame is on its way to the app (not about:blank)
      fetchingToken: false, // between getToken() and posting its token
      pageSinceSignIn: false, // an app page loaded since the last sign-in
      lastRenewal: 0,
      path: null,
      signedOut: false, // signOut() was called: no more sign-ins
      signOutDone: null // resolves signOut()'s promise
    };

    // A path of this app (same rule as the app's own `next`), else the list.
    function safePath(path) {
      // Browsers drop tabs and newlines from URLs: "/\t/x" would become "//x".
      if (typeof path !== "string" || path.charAt(0) !== "/" || path.charAt(1) === "/" ||
          /[\\\u0000-\u001f]/.test(path)) return defaultPath;
      if (base && path.indexOf(base + "/") !== 0) return defaultPath;
      return path;
    }

    function withEmbed(path) {
      var url = new URL(safePath(path), origin);
      url.searchParams.set("embed", "1");
      return url.pathname + url.search;
    }

    function fail(code, message) {
      var error = { code: code, message: message };
      if (typeof options.onError === "function") options.onError(error);
      else if (window.console) window.console.error("Invoice Manager: " + message);
    }

    function signIn(path) {
      state.pageSinceSignIn = false;
      state.fetchingToken = true;
      Promise.resolve()
        .then(function () { return options.getToken(); })
        .then(function (token) {
          state.fetchingToken = false;
          if (state.destroyed) return;
          if (typeof token !== "string" || !token) throw new Error("getToken() gave no token");
          tokenField.value = token;
          nextField.value = withEmbed(path);
          state.appLoading = true;
          form.submit();
          // The form's data is taken at submit; the token need not stay in the page.
          tokenField.value = "";
        })
        .catch(function (error) {
          state.fetchingToken = false;
          fail("token", "Could not get a sign-in token: " + ((error && error.message) || error));
        });
    }

    function renew(path) {
      if (state.fetchingToken || state.signedOut) return; // on its way; or over
      if (!state.pageSinceSignIn) {
        fail("not_signed_in", "The Invoice Manager did not keep the sign-in: the browser " +
          "may block its cookie in this frame (see docs/embedding.md, Troubleshooting).");
        return;
      }
      var now = Date.now();
      if (now - state.lastRenewal < RENEW_MIN_INTERVAL_MS) {
        fail("renewal_loop", "The Invoice Manager's session ended again right after it " +
          "was renewed; not trying again.");
        return;
      }
      state.lastRenewal = now;
      signIn(path);
    }

    function navigated(path) {
      state.pageSinceSignIn = true;
      if (path === state.path) return;
      state.path = path;
      if (typeof options.onNavigate === "function") options.onNavigate(path);
    }

    function onMessage(event) {
      // Only this frame's window, and only while it shows the app's origin.
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      var data = event.data;
      if (!data || typeof data.type !== "string" || data.type.indexOf(PREFIX) !== 0) return;
      switch (data.type.slice(PREFIX.length)) {
        case "height":
          if (typeof data.height === "number" && isFinite(data.height) && data.height >= 0) {
            frame.style.height = Math.ceil(data.height) + "px";
          }
          break;
        case "navigate":
          navigated(safePath(data.path));
          break;
        case "session-ended":
        case "signed-out":
          renew(safePath(data.path || state.path));
          break;
        case "sign-out-done":
          if (state.signOutDone) state.signOutDone();
          break;
        case "sign-in-refused":
          fail("refused", String(data.reason || "The Invoice Manager refused the sign-in."));
          break;
      }
    }

    // Each page the frame loads learns the portal's origin from this hello
    // (the frame checks it against the origins it may be framed by).
    function onFrameLoad() {
      if (state.appLoading && frame.contentWindow) {
        frame.contentWindow.postMessage({ type: PREFIX + "hello" }, origin);
      }
    }

    window.addEventListener("message", onMessage);
    frame.addEventListener("load", onFrameLoad);
    signIn(options.path || defaultPath);

    return {
      frame: frame,
      // Go elsewhere in the app; the session cookie signs this request in.
      navigate: function (path) {
        state.appLoading = true;
        frame.src = origin + withEmbed(path);
      },
      // End the frame's session (POST /logout inside the frame): call it when
      // the portal's user signs out, before leaving the page.
      signOut: function () {
        state.signedOut = true;
        return new Promise(function (resolve) {
          state.signOutDone = resolve;
          window.setTimeout(resolve, SIGN_OUT_TIMEOUT_MS);
          if (frame.contentWindow) {
            frame.contentWindow.postMessage({ type: PREFIX + "sign-out" }, origin);
          }
        });
      },
      destroy: function () {
        state.destroyed = true;
        window.removeEventListener("message", onMessage);
        frame.removeEventListener("load", onFrameLoad);
        frame.remove();
        form.remove();
      }
    };
  }

  window.InvoiceManager = window.InvoiceManager || {};
  window.InvoiceManager.mount = mount;
})();
