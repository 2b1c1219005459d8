// Upload with a progress bar: the form is sent with XMLHttpRequest so that upload progress can be shown.
// The answer (the dataset page with the import state, or with a message) then replaces this page.
// Without JavaScript the form is submitted normally and the same pages are shown.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    status.textContent = status.getAttribute("data-uploading");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = status.getAttribute("data-uploading") + " " + bar.value + " %";
      }
    });
    xhr.addEventListener("load", function () {
      var url = xhr.responseURL || window.location.href;
      if (xhr.status >= 200 && xhr.status < 300 && url.indexOf("/upload") === -1) {
        window.location.assign(url);  // followed the redirect to the dataset page: load it properly
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      bar.hidden = true;
      status.textContent = "";
      form.submit();
    });
    xhr.open("POST", form.action);
    xhr.send(new FormData(form));
  });
})();
