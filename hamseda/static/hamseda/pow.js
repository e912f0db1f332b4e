/* Proof of work for the sign form (hamseda/integrity/pow.py).
 *
 * When the server answers "too many signatures from your network" it puts a signed
 * challenge in the form. This script finds a counter such that
 * SHA-256("<challenge>:<counter>") starts with the challenge's number of zero bits,
 * puts it in the form and submits it again: a few seconds on a cheap phone. Web Crypto
 * only, no third party; without JavaScript the page says when to try again instead.
 */
(function () {
  "use strict";
  var field = document.querySelector("input[data-pow-challenge]");
  if (!field || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  var form = field.form;
  var challenge = field.value;
  var bits = parseInt(challenge.split(".")[2], 10);
  if (!(bits > 0 && bits < 40)) return;
  var status = document.getElementById("pow-status");
  if (status) status.hidden = false;
  var encoder = new TextEncoder();

  function leadingZeroBits(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { count++; b <<= 1; }
      break;
    }
    return count;
  }

  // Hash a batch of counters in parallel promises: each digest() is async, and
  // awaiting them one by one would spend most of the time waiting between calls.
  var BATCH = 256;
  function search(start) {
    var jobs = [];
    for (var i = 0; i < BATCH; i++) {
      jobs.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + (start + i))));
    }
    return Promise.all(jobs).then(function (digests) {
      for (var j = 0; j < digests.length; j++) {
        if (leadingZeroBits(new Uint8Array(digests[j])) >= bits) return start + j;
      }
      return search(start + BATCH);
    });
  }

  search(0).then(function (counter) {
    form.elements.namedItem("pow_counter").value = String(counter);
    form.submit();
  });
})();
