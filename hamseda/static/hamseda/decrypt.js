// Decrypts a sealed export in this browser: the organiser picks the export and their
// secret key file(s); this script checks the export (vault/export.py describes the
// format), opens each record with the key its key id names (libsodium's
// crypto_box_seal_open) and offers the CSV as a download. Nothing is sent anywhere:
// there is no form, and the page's Content-Security-Policy forbids its scripts to
// connect to any server (vault/csp.py).
//
// The CSV is byte for byte what `hamseda decrypt` writes (vault/decrypt.py): UTF-8 with
// a byte-order mark, every field quoted, CRLF line ends, formula-like text prefixed
// with an apostrophe. The messages come from the page, translated.
(function () {
  "use strict";
  var root = document.getElementById("browser-decrypt");
  if (!root || !window.sodium) return;

  var FORMAT = "hamseda-sealed-export";
  var VERSION = 1;
  var KEY_FILE_LIMIT = 4096;
  var COLUMNS = [
    "first name", "last name", "e-mail", "country", "postcode", "reason", "show name",
    "keep updated", "signed at", "confirmed at", "key id", "state",
  ];
  var FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"];

  window.sodium.ready.then(function () {
    setUp(window.sodium);
  });

  // A problem with the input, told to the organiser in their language.
  function Failure(name, values) {
    this.name = name;
    this.values = values || {};
  }

  function message(name, values) {
    var item = document.querySelector('#decrypt-messages [data-message="' + name + '"]');
    var text = item ? item.textContent : name;
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(String(values[key]));
    });
    return text;
  }

  function setUp(sodium) {
    var exportInput = document.getElementById("decrypt-export");
    var keyInput = document.getElementById("decrypt-keys");
    var button = document.getElementById("decrypt-run");
    var status = document.getElementById("decrypt-status");
    var download = document.getElementById("decrypt-download");
    var csvUrl = null;

    function show(text, isError) {
      status.textContent = text;
      status.className = isError ? "alert" : "";
    }

    button.addEventListener("click", function () {
      if (csvUrl) URL.revokeObjectURL(csvUrl);
      csvUrl = null;
      download.hidden = true;
      button.disabled = true;
      show(message("working"), false);
      run(sodium, exportInput.files[0], Array.prototype.slice.call(keyInput.files))
        .then(function (result) {
          csvUrl = URL.createObjectURL(new Blob([result.csv], { type: "text/csv;charset=utf-8" }));
          download.href = csvUrl;
          download.download = result.name;
          download.hidden = false;
          show(message("done", { count: result.count }), false);
          download.focus();
        })
        .catch(function (error) {
          if (error instanceof Failure) show(message(error.name, error.values), true);
          else show(message("failed", { error: error && error.message }), true);
        })
        .then(function () {
          button.disabled = false;
        });
    });

    root.hidden = false;
    document.getElementById("decrypt-without-js").hidden = true;
  }

  async function run(sodium, exportFile, keyFiles) {
    if (!exportFile) throw new Failure("no-export");
    if (!keyFiles.length) throw new Failure("no-key");
    if (!window.crypto || !window.crypto.subtle) throw new Failure("insecure");
    var keys = {};
    for (var i = 0; i < keyFiles.length; i++) {
      var key = await readKeyFile(sodium, keyFiles[i]);
      if (!keys[key.keyId]) keys[key.keyId] = key;
    }
    var bytes = new Uint8Array(await exportFile.arrayBuffer());
    var result = await decryptExport(sodium, bytes, keys, exportFile.name);
    result.name = exportFile.name.replace(/\.jsonl?$/i, "") + ".csv";
    return result;
  }

  // --- key files ----------------------------------------------------------------------

  async function readKeyFile(sodium, file) {
    var notAKey = new Failure("not-key", { file: file.name });
    if (file.size > KEY_FILE_LIMIT) throw notAKey;
    var text;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
    } catch (error) {
      throw notAKey;
    }
    var lines = text.split(/\r\n|\r|\n/).map(function (line) {
      return line.trim();
    });
    var values = lines.filter(function (line) {
      return line && line.charAt(0) !== "#";
    });
    if (values.length !== 1) throw notAKey;
    var secretKey;
    try {
      secretKey = sodium.from_base64(values[0], sodium.base64_variants.ORIGINAL);
    } catch (error) {
      throw notAKey;
    }
    if (secretKey.length !== 32) throw notAKey;
    var publicKey = sodium.crypto_scalarmult_base(secretKey);
    var organization = "";
    lines.forEach(function (line) {
      if (line.toLowerCase().indexOf("# organisation:") === 0) {
        organization = organization || line.slice(line.indexOf(":") + 1).trim();
      }
    });
    return {
      keyId: sodium.to_hex(sodium.crypto_generichash(8, publicKey, null)),
      publicKey: publicKey,
      secretKey: secretKey,
      organization: organization,
    };
  }

  function checkKeys(header, keys) {
    var missing = header.key_ids.filter(function (keyId) {
      return !keys[keyId];
    });
    if (!missing.length) return;
    var organization = (header.organization || {}).slug || "";
    var held = Object.keys(keys).map(function (keyId) {
      var key = keys[keyId];
      if (key.organization && key.organization !== organization) {
        return message("key-of-org", { key: keyId, organization: key.organization });
      }
      return keyId;
    });
    throw new Failure("needs", { needed: header.key_ids.join(", "), held: held.join(", ") });
  }

  // --- the export -----------------------------------------------------------------------

  function* lines(bytes) {
    var start = 0;
    while (start < bytes.length) {
      var end = bytes.indexOf(10, start);
      var stop = end === -1 ? bytes.length : end + 1;
      yield { start: start, bytes: bytes.subarray(start, stop), complete: end !== -1 };
      start = stop;
    }
  }

  function parseLine(line) {
    try {
      var item = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(line.bytes));
      return item !== null && typeof item === "object" && !Array.isArray(item) ? item : null;
    } catch (error) {
      return null;
    }
  }

  function checkHeader(header, file) {
    if (!header || header.format !== FORMAT) throw new Failure("not-export", { file: file });
    if (header.version !== VERSION) throw new Failure("version", { file: file });
    var valid =
      Number.isInteger(header.records) &&
      header.records >= 0 &&
      Array.isArray(header.key_ids) &&
      header.key_ids.every(function (keyId) {
        return typeof keyId === "string";
      });
    if (!valid) throw new Failure("damaged", { file: file, line: 1 });
  }

  async function decryptExport(sodium, bytes, keys, file) {
    var iterator = lines(bytes);
    var first = iterator.next();
    var header = first.done ? null : parseLine(first.value);
    checkHeader(header, file);
    checkKeys(header, keys);
    var parts = ["\ufeff" + csvRow(COLUMNS)];
    var count = 0;
    var number = 1;
    for (var line of iterator) {
      number += 1;
      var item = parseLine(line);
      if (!item) {
        throw new Failure(line.complete ? "damaged" : "truncated", { file: file, line: number });
      }
      if ("end" in item) {
        await checkTrailer(item, bytes, line, iterator, header, count, file);
        return { csv: parts.join(""), count: count };
      }
      if (typeof item.sealed !== "string" || header.key_ids.indexOf(item.key_id) === -1) {
        throw new Failure("damaged", { file: file, line: number });
      }
      parts.push(csvRow(recordRow(item, openRecord(sodium, item, keys, file, number))));
      count += 1;
    }
    throw new Failure("truncated", { file: file, line: number });
  }

  async function checkTrailer(trailer, bytes, line, iterator, header, count, file) {
    for (var rest of iterator) {
      if (new TextDecoder().decode(rest.bytes).trim()) {
        throw new Failure("damaged", { file: file, line: "end" });
      }
    }
    var digest = await window.crypto.subtle.digest("SHA-256", bytes.subarray(0, line.start));
    var hex = Array.prototype.map
      .call(new Uint8Array(digest), function (byte) {
        return byte.toString(16).padStart(2, "0");
      })
      .join("");
    if (trailer.sha256 !== hex) throw new Failure("digest", { file: file });
    if (trailer.records !== count) throw new Failure("damaged", { file: file, line: "end" });
    if (header.records !== count) {
      throw new Failure("count", { file: file, count: count, announced: header.records });
    }
  }

  function openRecord(sodium, item, keys, file, number) {
    var key = keys[item.key_id];
    var damaged = new Failure("damaged", { file: file, line: number });
    var sealed;
    try {
      sealed = sodium.from_base64(item.sealed, sodium.base64_variants.ORIGINAL);
    } catch (error) {
      if (item.sealed === "") return {}; // Purged: only the plain columns remain.
      throw damaged;
    }
    if (!sealed.length) return {};
    try {
      var opened = sodium.crypto_box_seal_open(sealed, key.publicKey, key.secretKey);
      var data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(opened));
    } catch (error) {
      throw damaged;
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) throw damaged;
    return data;
  }

  // --- the CSV --------------------------------------------------------------------------

  function spreadsheetSafe(value) {
    if (value === null || value === undefined) return "";
    var text = typeof value === "string" ? value : JSON.stringify(value);
    return FORMULA_STARTS.indexOf(text.charAt(0)) !== -1 ? "'" + text : text;
  }

  function recordRow(item, data) {
    return [
      data.first_name,
      data.last_name,
      data.email,
      item.country,
      data.postcode,
      data.reason,
      item.show_name === true ? "yes" : "no",
      item.keep_updated === true ? "yes" : "no",
      item.created_at,
      item.validated_at,
      item.key_id,
      item.state,
    ].map(spreadsheetSafe);
  }

  function csvRow(values) {
    return (
      values
        .map(function (value) {
          return '"' + value.split('"').join('""') + '"';
        })
        .join(",") + "\r\n"
    );
  }
})();
