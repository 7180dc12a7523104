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
            .then(function (result) { render(form, result.state); })
            .catch(function () { form.submit(); });
    });
});

function render(form, state) {
    var on = state === "on";
    var badge = form.querySelector(".state");
    var button = form.querySelector("button");
    var product = button.textContent.replace(/^(Stop|Let) /, "").replace(/ us(e|ing) .*$/, "");
    var scope = button.textContent.replace(/^.* us(e|ing) /, "");
    badge.textContent = on ? "on" : "off";
    badge.className = "badge state " + (on ? "badge-green" : "badge-red");
    form.querySelector("input[name=allow]").value = on ? "0" : "1";
    button.textContent = (on ? "Stop " : "Let ") + product + (on ? " using " : " use ") + scope;
    form.closest("td").dataset.state = state;
}
