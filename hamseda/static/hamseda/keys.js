// Makes the organisation's sealing key pair in this browser with the bundled libsodium
// (vendor/libsodium), offers the secret key as a file to save, and fills in only the
// public key for the form that posts it. The secret key is never sent: the page's
// Content-Security-Policy even forbids its scripts to connect anywhere (vault/csp.py).
//
// The key file is the text `hamseda keys generate` writes (orgs/sealing_keys.py,
// key_file_text), so `hamseda decrypt --key` reads it. Without JavaScript, or if
// libsodium cannot start, this part of the page stays hidden and the server-side
// form below it is the way.
(function () {
  "use strict";
  var root = document.getElementById("browser-keygen");
  if (!root || !window.sodium) return;

  window.sodium.ready.then(function () {
    setUp(window.sodium);
  });

  function keyFileText(organization, keyId, secretKey) {
    return (
      "# Hamseda sealing secret key\n" +
      "# organisation: " + organization + "\n" +
      "# key id: " + keyId + "\n" +
      "# Keep this file offline. Whoever holds it can read every supporter's data.\n" +
      secretKey + "\n"
    );
  }

  function setUp(sodium) {
    var organization = root.dataset.organization;
    var create = document.getElementById("keygen-create");
    var steps = document.getElementById("keygen-steps");
    var download = document.getElementById("keygen-download");
    var keyIdOut = document.getElementById("keygen-key-id");
    var publicInput = document.getElementById("keygen-public");
    var saved = document.getElementById("keygen-saved");
    var use = document.getElementById("keygen-use");
    var fileUrl = null;

    create.addEventListener("click", function () {
      var pair = sodium.crypto_box_keypair();
      var original = sodium.base64_variants.ORIGINAL;
      var publicKey = sodium.to_base64(pair.publicKey, original);
      // The key id is what the server stores next to each record: BLAKE2b with an
      // 8-byte digest of the public key (vault/crypto.py, key_id).
      var keyId = sodium.to_hex(sodium.crypto_generichash(8, pair.publicKey, null));
      var text = keyFileText(organization, keyId, sodium.to_base64(pair.privateKey, original));
      sodium.memzero(pair.privateKey);
      if (fileUrl) URL.revokeObjectURL(fileUrl);
      fileUrl = URL.createObjectURL(new Blob([text], { type: "application/octet-stream" }));
      download.href = fileUrl;
      download.download = "hamseda-" + organization + "-" + keyId + ".key";
      keyIdOut.textContent = keyId;
      publicInput.value = publicKey;
      // A new pair needs a new download before it can be used.
      saved.checked = false;
      saved.disabled = true;
      use.disabled = true;
      steps.hidden = false;
      download.focus();
    });

    download.addEventListener("click", function () {
      saved.disabled = false;
    });
    saved.addEventListener("change", function () {
      use.disabled = !saved.checked;
    });

    root.hidden = false;
  }
})();
