// Progressive enhancement of the consent grid: toggles apply without a page reload.
// Without JavaScript each cell is an ordinary form and the page reloads.
document.querySelectorAll("form.consent-toggle").forEach(function (form) {
    form.addEventListener("submit", function (event) {
        event.preventDefault();
        fetch(form.action, {
            method: "POST",
            body: new FormData(form),
            headers: { "Accept": "application/json" },
            credentials: "same-origin",
        })
            .then(function (response) {
                if (!response.ok) { throw new Error("consent change refused"); }
                return response.json();
            })
            .then(function (result) { render(form, result); })
            .catch(function () { form.submit(); });
    });
});

// The badge's words and tone come from the server, as on the page it replaces.
function render(form, result) {
    var on = result.state === "on";
    var badge = form.querySelector(".badge");
    var button = form.querySelector("button");
    var product = button.textContent.replace(/^(Stop|Let) /, "").replace(/ us(e|ing) .*$/, "");
    var scope = button.textContent.replace(/^.* us(e|ing) /, "");
    badge.textContent = result.label;
    badge.className = "badge badge-" + result.tone;
    form.querySelector("input[name=allow]").value = on ? "0" : "1";
    button.textContent = (on ? "Stop " : "Let ") + product + (on ? " using " : " use ") + scope;
    form.closest("td").dataset.state = result.state;
}
