"""Small readers shared by tests of different apps."""


def dashboard_numbers(client) -> dict:
    """The operator dashboard's cards as {title: value}, across its sections."""
    sections = client.get("/admin/").context["kpi_sections"]
    return {card["title"]: card["value"] for section in sections for card in section["cards"]}
