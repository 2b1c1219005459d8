// The letter codes page: its print button.
(function () {
  var button = document.getElementById("print-codes");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
