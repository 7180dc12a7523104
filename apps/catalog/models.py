from django.db import models

from apps.core.models import BaseModel


class Product(BaseModel):
    """A Gera product (GeraHome, GeraClinic, …): publishes skills, reads consented memory."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
