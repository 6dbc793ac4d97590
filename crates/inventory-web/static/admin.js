// The staff site works without this file; it only adds comforts.
// - "Select all" for the change-list check boxes.
// - The scan page keeps its input focused after each booking.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("result_list");
    if (table) {
      var head = table.querySelector("thead th.check");
      var boxes = table.querySelectorAll("tbody input[name=_selected_action]");
      if (head && boxes.length) {
        var all = document.createElement("input");
        all.type = "checkbox";
        all.setAttribute("aria-label", "Select all rows");
        all.addEventListener("change", function () {
          boxes.forEach(function (b) { b.checked = all.checked; });
        });
        head.textContent = "";
        head.appendChild(all);
      }
    }
    var code = document.getElementById("id_code");
    if (code) { code.focus(); code.select(); }
  });
})();
