// A "Copy" button beside a read-only field: <button class="copy" data-copy="#field" hidden>.
// Shown only where the script runs, so a page without it shows nothing that does not work.
document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
        navigator.clipboard.writeText(document.querySelector(button.dataset.copy).value)
            .then(function () { button.textContent = "Copied"; });
    });
});
