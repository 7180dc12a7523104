from django.db import models


class BaseModel(models.Model):
    """Creation and last-change times, on every GeraOS table."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
