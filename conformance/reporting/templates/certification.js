(function () {
  var all = function () { return document.querySelectorAll("details.failure, details.rules, details.step"); };
  var remembered = [];
  function setAll(open) { all().forEach(function (d) { d.open = open; }); }
  document.querySelectorAll("[data-expand]").forEach(function (button) {
    button.addEventListener("click", function () { setAll(button.getAttribute("data-expand") === "all"); });
  });
  window.addEventListener("beforeprint", function () {
    remembered = Array.prototype.map.call(all(), function (d) { return d.open; });
    setAll(true);
  });
  window.addEventListener("afterprint", function () {
    all().forEach(function (d, i) { if (i < remembered.length) { d.open = remembered[i]; } });
  });
  function openTarget() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
