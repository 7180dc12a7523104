from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors as catalog_selectors
from apps.core.api.permissions import HasScope
from apps.dispatch import resolver
from apps.dispatch.api.serializers import (
    ResolutionSerializer,
    ResolveRequestSerializer,
    SkillQuerySerializer,
    SkillSerializer,
)


class SkillListView(APIView):
    """Published skills an agent can dispatch, filtered by capability and place."""

    @extend_schema(
        parameters=[SkillQuerySerializer],
        responses=SkillSerializer(many=True),
        operation_id="skills_list",
    )
    def get(self, request: Request) -> Response:
        query = SkillQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        skills = catalog_selectors.skill_list_published(**query.validated_data)
        return Response(SkillSerializer(skills, many=True, context={"routing": {}}).data)


class SkillDetailView(APIView):
    @extend_schema(responses=SkillSerializer, operation_id="skills_retrieve")
    def get(self, request: Request, skill_id: int) -> Response:
        skill = catalog_selectors.skill_get_published(skill_id=skill_id)
        if skill is None:
            raise Http404
        return Response(SkillSerializer(skill).data)


class ResolveView(APIView):
    """A dry run: what dispatching this intent would do, with a quote. Nothing is booked."""

    permission_classes = [HasScope("dispatch:create")]

    @extend_schema(
        request=ResolveRequestSerializer,
        responses=ResolutionSerializer,
        operation_id="intents_resolve",
    )
    def post(self, request: Request) -> Response:
        body = ResolveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = resolver.resolve_text(user=request.user, text=body.validated_data["text"])
        provider = found.provider
        data = {
            "intent": found.intent.as_dict(),
            "skill": found.skill,
            "provider": {
                "name": provider.name,
                "city": provider.city,
                "rating": str(provider.rating),
                "price": {
                    "amount": str(provider.price.amount),
                    "currency": str(provider.price.currency),
                },
            },
            "quote": found.quote,
        }
        return Response(ResolutionSerializer(data).data)
