from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors as catalog_selectors
from apps.dispatch.api.serializers import SkillQuerySerializer, SkillSerializer


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
        return Response(SkillSerializer(skills, many=True).data)


class SkillDetailView(APIView):
    @extend_schema(responses=SkillSerializer, operation_id="skills_retrieve")
    def get(self, request: Request, skill_id: int) -> Response:
        skill = catalog_selectors.skill_get_published(skill_id=skill_id)
        if skill is None:
            raise Http404
        return Response(SkillSerializer(skill).data)
