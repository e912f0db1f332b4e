// The profile-picture frame page (kit/frame.html): once a photo is chosen, show it
// under the frame and let the reader drag it into place and zoom. The photo stays in
// the browser until the form is sent; this script only fills the form's crop fields
// (crop_x, crop_y: the square's top-left corner as fractions of the photo's width and
// height; zoom: 100-200, the square's side being the shorter edge divided by zoom/100).
// Without JavaScript the position menu and the zoom field do the same, more coarsely.
(function () {
  "use strict";
  var form = document.querySelector("[data-frame-form]");
  var stage = document.querySelector("[data-frame-stage]");
  if (!form || !stage || !window.FileReader) return;
  var fileInput = form.querySelector("input[type=file]");
  var zoomInput = form.querySelector("[data-frame-zoom]");
  var positionInput = form.querySelector("select[name=position]");
  var cropX = form.querySelector("input[name=crop_x]");
  var cropY = form.querySelector("input[name=crop_y]");
  var caption = document.querySelector("[data-frame-caption]");
  var overlay = stage.querySelector(".kit-frame-overlay");
  var POSITIONS = {
    centre: [0.5, 0.5], top: [0.5, 0], bottom: [0.5, 1], left: [0, 0.5], right: [1, 0.5]
  };
  var photo = null;  // The <img> of the chosen photo.
  var reader = null;
  // The photo's size, the square's corner and side, in the photo's pixels.
  var state = null;

  function zoom() {
    var value = parseInt(zoomInput.value, 10);
    if (isNaN(value)) value = 100;
    return Math.min(200, Math.max(100, value)) / 100;
  }

  function side() {
    return Math.min(state.width, state.height) / zoom();
  }

  function clamp() {
    var s = side();
    state.side = s;
    state.x = Math.min(Math.max(state.x, 0), state.width - s);
    state.y = Math.min(Math.max(state.y, 0), state.height - s);
  }

  function draw() {
    if (!state) return;
    clamp();
    var scale = stage.clientWidth / side();  // Screen pixels per photo pixel.
    photo.style.width = state.width * scale + "px";
    photo.style.height = state.height * scale + "px";
    photo.style.left = -state.x * scale + "px";
    photo.style.top = -state.y * scale + "px";
    cropX.value = (state.x / state.width).toFixed(5);
    cropY.value = (state.y / state.height).toFixed(5);
  }

  function centreOn(fractions) {
    var s = side();
    state.x = fractions[0] * state.width - s / 2;
    state.y = fractions[1] * state.height - s / 2;
    draw();
  }

  function forget() {
    if (photo) photo.remove();
    if (reader) reader.abort();
    photo = null;
    reader = null;
    state = null;
    cropX.value = "";
    cropY.value = "";
    stage.removeAttribute("tabindex");
  }

  fileInput.addEventListener("change", function () {
    forget();
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    photo = document.createElement("img");
    photo.className = "kit-frame-photo";
    photo.alt = "";
    photo.draggable = false;
    photo.addEventListener("load", function () {
      // Browsers turn photos upright by their EXIF orientation, as the server does.
      state = { width: photo.naturalWidth, height: photo.naturalHeight, x: 0, y: 0, side: 0 };
      centreOn(POSITIONS[positionInput.value] || POSITIONS.centre);
      stage.tabIndex = 0;
      if (caption && form.dataset.dragCaption) caption.textContent = form.dataset.dragCaption;
    });
    photo.addEventListener("error", forget);  // A format the browser cannot show.
    stage.insertBefore(photo, overlay);
    // A data: URL, read in the browser: the page's CSP allows data: images, not blob:.
    reader = new FileReader();
    reader.addEventListener("load", function () {
      if (photo) photo.src = reader.result;
      reader = null;
    });
    reader.readAsDataURL(file);
  });

  zoomInput.addEventListener("input", function () {
    if (!state) return;
    var before = state.side;  // The square before this change of zoom.
    var middleX = state.x + before / 2;
    var middleY = state.y + before / 2;
    var after = side();
    state.x = middleX - after / 2;
    state.y = middleY - after / 2;
    draw();
  });

  positionInput.addEventListener("change", function () {
    if (state) centreOn(POSITIONS[positionInput.value] || POSITIONS.centre);
  });

  var drag = null;
  stage.addEventListener("pointerdown", function (event) {
    if (!state) return;
    drag = { x: event.clientX, y: event.clientY, startX: state.x, startY: state.y };
    stage.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  stage.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var scale = stage.clientWidth / side();
    state.x = drag.startX - (event.clientX - drag.x) / scale;
    state.y = drag.startY - (event.clientY - drag.y) / scale;
    draw();
  });
  function endDrag() { drag = null; }
  stage.addEventListener("pointerup", endDrag);
  stage.addEventListener("pointercancel", endDrag);

  // Arrow keys move the photo by a twentieth of the square, for keyboards.
  stage.addEventListener("keydown", function (event) {
    if (!state) return;
    var step = side() / 20;
    var moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    var move = moves[event.key];
    if (!move) return;
    state.x += move[0];
    state.y += move[1];
    draw();
    event.preventDefault();
  });

  window.addEventListener("resize", draw);
})();
