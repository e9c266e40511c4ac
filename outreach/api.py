"""The outreach JSON API (/api/v1/): courses, sign-up and cancel, my trainings, training needs, policy
and rights articles (public), and staff follow-ups scoped to their service points.

Thin views: validate, look the object up through a selector (someone else's sign-up, another point's
follow-up is a 404), call one service, serialize.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import IsStaffWithPerms, PublicAPIView
from accounts.serializers import ErrorSerializer
from core.api import found as _found
from core.api import validated as _valid

from . import selectors, services
from .models import Article, Enrollment, FollowUp
from .serializers import (
    ArticleListSerializer,
    ArticleSerializer,
    CourseSerializer,
    EnrollmentSerializer,
    FollowUpCallCreateSerializer,
    FollowUpSerializer,
    TrainingNeedSerializer,
    TrainingNeedsSerializer,
)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "输入有误（fields 指出哪一项）",
        401: "未登录",
        403: "没有权限",
        404: "不存在，或不属于你",
        409: "名额已满、重复报名，或当前状态不允许",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in statuses}


# ----------------------------------------------------------------------------------------- trainings


class CourseListView(PublicAPIView, generics.ListAPIView):
    serializer_class = CourseSerializer
    ordering = ("starts_on", "id")

    def get_queryset(self):
        return selectors.courses_open()

    @extend_schema(operation_id="courses_list", summary="培训课程（公开，未开课的）", tags=["trainings"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CourseDetailView(PublicAPIView):
    @extend_schema(
        operation_id="courses_retrieve",
        summary="培训课程详情",
        responses={200: CourseSerializer, **_errors(404)},
        tags=["trainings"],
    )
    def get(self, request, pk: int):
        return Response(CourseSerializer(_found(selectors.course_public, pk=pk)).data)


class CourseSignupView(APIView):
    @extend_schema(
        operation_id="courses_signup",
        summary="报名培训（名额由数据库保证不超报）",
        request=None,
        responses={201: EnrollmentSerializer, **_errors(401, 403, 404, 409)},
        tags=["trainings"],
    )
    def post(self, request, pk: int):
        course = _found(selectors.course_public, pk=pk)
        enrollment = services.training_signup(course=course, worker=request.user)
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class MyTrainingListView(generics.ListAPIView):
    serializer_class = EnrollmentSerializer
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        return selectors.enrollments_for_worker(user=self.request.user)

    @extend_schema(operation_id="me_trainings_list", summary="我的培训报名", tags=["trainings"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EnrollmentCancelView(APIView):
    @extend_schema(
        operation_id="enrollments_cancel",
        summary="取消培训报名（开课前）",
        request=None,
        responses={200: EnrollmentSerializer, **_errors(401, 404, 409)},
        tags=["trainings"],
    )
    def post(self, request, pk: int):
        enrollment = _found(selectors.enrollment_for_worker, user=request.user, pk=pk)
        enrollment = services.training_cancel(enrollment=enrollment, actor=request.user)
        return Response(EnrollmentSerializer(enrollment).data)


class MyTrainingNeedsView(APIView):
    @extend_schema(
        operation_id="me_training_needs_retrieve",
        summary="我想学的技能",
        responses={200: TrainingNeedSerializer(many=True)},
        tags=["trainings"],
    )
    def get(self, request):
        return Response(
            TrainingNeedSerializer(selectors.training_needs_of(user=request.user), many=True).data
        )

    @extend_schema(
        operation_id="me_training_needs_update",
        summary="填写培训需求（整体替换，最多5项）",
        request=TrainingNeedsSerializer,
        responses={200: TrainingNeedSerializer(many=True), **_errors(400, 401, 403)},
        tags=["trainings"],
    )
    def put(self, request):
        data = _valid(TrainingNeedsSerializer, request)
        needs = services.training_needs_set(worker=request.user, trades=list(data["trades"]))
        return Response(TrainingNeedSerializer(needs, many=True).data)


# ------------------------------------------------------------------------------------------ articles


class ArticleListView(PublicAPIView, generics.ListAPIView):
    serializer_class = ArticleListSerializer
    ordering = ("sort_order", "-id")

    def get_queryset(self):
        category = self.request.query_params.get("category", "")
        return selectors.articles_published(category=category if category in Article.Category.values else "")

    @extend_schema(
        operation_id="articles_list",
        summary="就业政策、权益保障文章（公开）",
        parameters=[OpenApiParameter("category", str, enum=Article.Category.values, required=False)],
        tags=["articles"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ArticleDetailView(PublicAPIView):
    @extend_schema(
        operation_id="articles_retrieve",
        summary="文章详情",
        responses={200: ArticleSerializer, **_errors(404)},
        tags=["articles"],
    )
    def get(self, request, pk: int):
        return Response(ArticleSerializer(_found(selectors.article_published, pk=pk)).data)


# --------------------------------------------------------------------------------- staff: follow-ups


class StaffFollowUpListView(generics.ListAPIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("outreach.view_followup",)
    serializer_class = FollowUpSerializer
    ordering = ("due_on", "id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUp.objects.none()
        which = self.request.query_params.get("tab", "due")
        if which not in ("due", "overdue", "upcoming", "done"):
            which = "due"
        return selectors.followup_queue(user=self.request.user, which=which)

    @extend_schema(
        operation_id="staff_followups_list",
        summary="回访任务（本网点；tab=due 今天该打 / overdue 逾期 / upcoming 未到期 / done 已完成）",
        parameters=[
            OpenApiParameter("tab", str, enum=["due", "overdue", "upcoming", "done"], required=False)
        ],
        tags=["staff"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StaffFollowUpDetailView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("outreach.view_followup",)

    @extend_schema(
        operation_id="staff_followups_retrieve",
        summary="回访任务详情",
        responses={200: FollowUpSerializer, **_errors(401, 403, 404)},
        tags=["staff"],
    )
    def get(self, request, pk: int):
        followup = _found(selectors.followup_for_staff, user=request.user, pk=pk)
        return Response(FollowUpSerializer(followup).data)


class StaffFollowUpCallView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("outreach.view_followup", "outreach.change_followup")

    @extend_schema(
        operation_id="staff_followups_call",
        summary="登记一次回访电话（未接通则稍后再打，计次数）",
        request=FollowUpCallCreateSerializer,
        responses={200: FollowUpSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["staff"],
    )
    def post(self, request, pk: int):
        followup = _found(selectors.followup_for_staff, user=request.user, pk=pk)
        data = _valid(FollowUpCallCreateSerializer, request)
        followup = services.followup_record_call(followup=followup, actor=request.user, **data)
        return Response(
            FollowUpSerializer(selectors.followup_for_staff(user=request.user, pk=followup.pk)).data
        )
