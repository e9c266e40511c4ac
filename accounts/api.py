"""The accounts JSON API (/api/v1/) for mini-programs and hall kiosks: sign-up and login, the user's own
account, profile and real-name, employers and their members, certificates, the public catalogues, and the
staff review queues.

Views are thin: validate with a serializer, call one service, serialize the result. Services raise
:class:`~core.errors.DomainError` or Django ``ValidationError``; :func:`core.api.exception_handler` turns
both into the one error shape ``{"code", "detail", "fields"}``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from knox.models import AuthToken, get_token_model
from knox.settings import knox_settings
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ViewOrderedCursorPagination
from core.errors import DomainError, NotAllowed, RateLimited
from core.scoping import objects_visible_to
from core.services import client_ip

from . import second_factor, selectors, services, throttle
from .auth import TokenAuthentication
from .models import (
    Certificate,
    CertificateType,
    Employer,
    EmployerMember,
    RealName,
    ServicePoint,
    WorkerProfile,
)
from .serializers import (
    AssistedConfirmSerializer,
    AssistedRegistrationResultSerializer,
    AssistedRegistrationSerializer,
    AssistedUserSerializer,
    CertificateSerializer,
    CertificateSubmitSerializer,
    CertificateTypeSerializer,
    CodeRequestSerializer,
    CodeSentSerializer,
    EmployerMemberSerializer,
    EmployerRegisterSerializer,
    EmployerResubmitSerializer,
    EmployerSerializer,
    ErrorSerializer,
    FullIdNumberSerializer,
    LoginSerializer,
    MemberAddSerializer,
    PasswordChangeSerializer,
    PasswordResetSerializer,
    RealNameSerializer,
    RealNameSubmitSerializer,
    ReasonSerializer,
    RegisterSerializer,
    ServicePointSerializer,
    StaffCertificateSerializer,
    StaffEmployerSerializer,
    StaffRealNameSerializer,
    TokenSerializer,
    UnmaskSerializer,
    UserSerializer,
    UserUpdateSerializer,
    WorkerProfileSerializer,
)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "输入有误（fields 指出哪一项）",
        401: "未登录",
        403: "没有权限",
        404: "不存在，或不属于你",
        409: "与现有数据冲突，或当前状态不允许",
        429: "太频繁，请稍后再试",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in statuses}


class IsStaffWithPerms(permissions.BasePermission):
    """Active staff holding every permission named in the view's ``staff_perms``. The decision services
    check their own permission again, so this gate is never the only one."""

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and user.is_staff
            and user.has_perms(getattr(view, "staff_perms", ()))
        )


def _token_for(user) -> dict:
    # A staff or mediator token ends after the idle time of their sessions (renewed on use: accounts/auth.py).
    ttl = settings.STAFF_IDLE_TIMEOUT if second_factor.needs_second_factor(user) else knox_settings.TOKEN_TTL
    instance, token = get_token_model().objects.create(user=user, expiry=ttl)
    return TokenSerializer({"token": token, "expiry": instance.expiry, "user": user}).data


class PublicAPIView(APIView):
    """Sign-up and login endpoints: no session (so no CSRF dance for kiosks), open to anyone."""

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)


# ---------------------------------------------------------------------------------------------- auth


class CodeView(PublicAPIView):
    @extend_schema(
        operation_id="auth_codes_create",
        summary="发送短信验证码",
        description="每个号码每分钟1条、每小时5条、每天10条；超限返回 429。",
        request=CodeRequestSerializer,
        responses={201: CodeSentSerializer, **_errors(400, 409, 429)},
        tags=["auth"],
    )
    def post(self, request):
        data = _valid(CodeRequestSerializer, request)
        record = services.phone_code_send(
            phone=data["phone"], purpose=data["purpose"], ip_address=client_ip(request)
        )
        expires_in = int((record.expires_at - record.created_at).total_seconds())
        return Response(CodeSentSerializer({"expires_in": expires_in}).data, status=status.HTTP_201_CREATED)


class RegisterView(PublicAPIView):
    @extend_schema(
        operation_id="auth_register",
        summary="注册（手机号+验证码）",
        request=RegisterSerializer,
        responses={201: TokenSerializer, **_errors(400, 409)},
        tags=["auth"],
    )
    def post(self, request):
        data = _valid(RegisterSerializer, request)
        user = services.user_register(
            phone=data["phone"],
            code=data["code"],
            name=data["name"],
            password=data["password"] or None,
            role=data["role"],
        )
        return Response(_token_for(user), status=status.HTTP_201_CREATED)


def _check_second_factor(user, otp_code: str) -> None:
    """Staff and mediators get a token only with their second factor: every staff token was issued after
    it. Enrolment happens on the web (it shows a QR code and the recovery codes)."""
    if not second_factor.needs_second_factor(user):
        return
    if not second_factor.has_second_factor(user=user):
        raise NotAllowed(
            "工作人员和调解员须先在网页上登录并绑定身份验证器", code="second_factor_enrolment_required"
        )
    if not otp_code.strip():
        raise DomainError("请填写身份验证器上的6位数字", field="otp_code", code="second_factor_required")
    try:
        second_factor.second_factor_verify(user=user, code=otp_code)
    except DomainError as exc:
        exc.field = "otp_code" if exc.field == "code" else exc.field
        raise


class LoginView(PublicAPIView):
    @extend_schema(
        operation_id="auth_login",
        summary="登录（密码或短信验证码）",
        description=(
            f"密码连续输错 {settings.AXES_FAILURE_LIMIT} 次后该号码的密码登录暂停 "
            f"{int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} 分钟（429 locked_out），验证码登录不受影响。"
            "同一网络地址失败过多时须等待（429 too_many_attempts，带 Retry-After）。"
            "工作人员和调解员还须填 otp_code（身份验证器的6位数字或恢复码）：缺少时 400 second_factor_required，"
            "未绑定时 403 second_factor_enrolment_required；其令牌闲置30分钟即失效。"
        ),
        request=LoginSerializer,
        responses={200: TokenSerializer, **_errors(400, 403, 409, 429)},
        tags=["auth"],
    )
    def post(self, request):
        data = _valid(LoginSerializer, request)
        way = "password" if data.get("password") else "code"
        address = client_ip(request)
        # An address past its failures waits; its attempts are not processed (and so lock no number).
        throttle.check(scope=way, address=address)
        django_request = request._request
        try:
            if way == "password":
                # django-axes counts failures (per number) on the Django request that reaches authenticate().
                user = authenticate(request=django_request, phone=data["phone"], password=data["password"])
                if user is None and getattr(django_request, "axes_locked_out", False):
                    # AxesMiddleware would swap this JSON for the HTML lock-out page; the API keeps its shape.
                    django_request.axes_locked_out = False
                    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
                    raise RateLimited(
                        f"该号码密码输错次数过多，密码登录暂停{minutes}分钟；可以用短信验证码登录",
                        code="locked_out",
                    )
                if user is None:
                    raise DomainError("手机号或密码不正确", code="invalid_credentials")
            else:
                try:
                    user = services.user_login_by_code(phone=data["phone"], code=data["code"])
                except DomainError as exc:  # the reason (expired, spoiled…), under the one login error code
                    raise DomainError(exc.message, field="code", code="invalid_credentials") from exc
        except DomainError:
            wait = throttle.failed(scope=way, address=address)
            if wait:
                raise RateLimited(
                    throttle.message(wait), code="too_many_attempts", retry_after=wait
                ) from None
            raise
        _check_second_factor(user, data.get("otp_code", ""))
        user_logged_in.send(sender=type(user), request=django_request, user=user)
        return Response(_token_for(user))


@extend_schema_view(
    post=extend_schema(
        operation_id="auth_logout",
        summary="退出登录（作废当前令牌）",
        request=None,
        tags=["auth"],
        responses={204: None, **_errors(401)},
    )
)
class LogoutView(KnoxLogoutView):
    authentication_classes = (TokenAuthentication,)


class LogoutAllView(APIView):
    @extend_schema(
        operation_id="auth_logout_all",
        summary="退出所有设备",
        description="作废该账户的所有令牌，并让所有网页登录失效（包括当前这个）。",
        request=None,
        tags=["auth"],
        responses={204: None, **_errors(401)},
    )
    def post(self, request):
        services.user_sessions_end(user=request.user)
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(
        operation_id="auth_password_change",
        summary="修改密码",
        description="改好后，其他设备的令牌和网页登录全部失效；发出这个请求的令牌继续有效。",
        request=PasswordChangeSerializer,
        responses={204: None, **_errors(400, 401)},
        tags=["auth"],
    )
    def post(self, request):
        data = _valid(PasswordChangeSerializer, request)
        token = request.auth if isinstance(request.auth, AuthToken) else None
        user = services.password_change(
            user=request.user,
            old_password=data["old_password"],
            new_password=data["new_password"],
            keep_token=token,
        )
        if token is None:  # signed in by the web session: that one stays
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAPIView):
    @extend_schema(
        operation_id="auth_password_reset",
        summary="用短信验证码重设密码",
        request=PasswordResetSerializer,
        responses={204: None, **_errors(400)},
        tags=["auth"],
    )
    def post(self, request):
        data = _valid(PasswordResetSerializer, request)
        services.password_reset(phone=data["phone"], code=data["code"], new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------------------------ me


class MeView(APIView):
    @extend_schema(operation_id="me_retrieve", responses={200: UserSerializer, **_errors(401)}, tags=["me"])
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        operation_id="me_update",
        summary="修改称呼",
        request=UserUpdateSerializer,
        responses={200: UserSerializer, **_errors(400, 401)},
        tags=["me"],
    )
    def patch(self, request):
        data = _valid(UserUpdateSerializer, request)
        user = services.user_update(user=request.user, name=data["name"])
        return Response(UserSerializer(user).data)


class MyProfileView(APIView):
    """想干什么/会干什么. PUT and PATCH both change only the fields sent."""

    def _profile(self, request) -> WorkerProfile | None:
        return WorkerProfile.objects.filter(user=request.user).first()

    @extend_schema(
        operation_id="me_profile_retrieve",
        responses={200: WorkerProfileSerializer, **_errors(401, 404)},
        tags=["me"],
    )
    def get(self, request):
        profile = self._profile(request)
        if profile is None:
            raise NotFound("还没有求职档案")
        return Response(WorkerProfileSerializer(profile).data)

    def _update(self, request, *, partial: bool):
        serializer = WorkerProfileSerializer(self._profile(request), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        wanted_trades = fields.pop("wanted_trades", None)
        profile = services.worker_profile_update(user=request.user, wanted_trades=wanted_trades, **fields)
        return Response(WorkerProfileSerializer(profile).data)

    @extend_schema(
        operation_id="me_profile_update",
        request=WorkerProfileSerializer,
        responses={200: WorkerProfileSerializer, **_errors(400, 401)},
        tags=["me"],
    )
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(
        operation_id="me_profile_partial_update",
        request=WorkerProfileSerializer(partial=True),
        responses={200: WorkerProfileSerializer, **_errors(400, 401)},
        tags=["me"],
    )
    def patch(self, request):
        return self._update(request, partial=True)


class MyRealNameView(APIView):
    @extend_schema(
        operation_id="me_realname_retrieve",
        summary="我的实名状态（证件号只显示打码）",
        responses={200: RealNameSerializer, **_errors(401, 404)},
        tags=["me"],
    )
    def get(self, request):
        record = RealName.objects.filter(user=request.user).first()
        if record is None:
            raise NotFound("尚未提交实名信息")
        return Response(RealNameSerializer(record).data)

    @extend_schema(
        operation_id="me_realname_submit",
        summary="提交实名信息（姓名+身份证号）",
        description="未通过后可重新提交。同一身份证号已绑定其他账户时返回 409（fields.id_number）。",
        request=RealNameSubmitSerializer,
        responses={201: RealNameSerializer, **_errors(400, 401, 409)},
        tags=["me"],
    )
    def post(self, request):
        data = _valid(RealNameSubmitSerializer, request)
        record = services.realname_submit(user=request.user, name=data["name"], id_number=data["id_number"])
        return Response(RealNameSerializer(record).data, status=status.HTTP_201_CREATED)


# -------------------------------------------------------------------------------------------- employers

_MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="我所属的用工主体", responses={200: EmployerSerializer, **_errors(401)}),
    retrieve=extend_schema(responses={200: EmployerSerializer, **_errors(401, 404)}),
)
class EmployerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Employers the caller belongs to; anyone else's is 404."""

    serializer_class = EmployerSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-created_at"
    filterset_fields = ["status", "kind"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Employer.objects.none()
        user = self.request.user
        my_role = EmployerMember.objects.filter(employer=OuterRef("pk"), user=user).values("role")[:1]
        return selectors.employers_for_user(user=user).annotate(my_role=Subquery(my_role))

    @extend_schema(
        summary="登记用工主体",
        description="企业/个体工商户需统一社会信用代码、法定代表人和营业执照照片（multipart）；居民需先实名。",
        request={
            "multipart/form-data": EmployerRegisterSerializer,
            "application/json": EmployerRegisterSerializer,
        },
        responses={201: EmployerSerializer, **_errors(400, 401)},
    )
    def create(self, request):
        data = _valid(EmployerRegisterSerializer, request)
        employer = services.employer_register(user=request.user, **data)
        return Response(self._out(employer), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改后重新提交（仅未通过的申请，仅负责人）",
        request={
            "multipart/form-data": EmployerResubmitSerializer,
            "application/json": EmployerResubmitSerializer,
        },
        responses={200: EmployerSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        employer = self.get_object()
        data = _valid(EmployerResubmitSerializer, request)
        employer = services.employer_resubmit(
            employer=employer,
            actor=request.user,
            name=data.get("name", employer.name),
            uscc=data.get("uscc", employer.uscc),
            legal_representative=data.get("legal_representative", employer.legal_representative),
            licence_image=data.get("licence_image"),
            licence_expires_on=data.get("licence_expires_on", employer.licence_expires_on),
        )
        return Response(self._out(employer))

    @extend_schema(
        methods=["GET"],
        operation_id="employers_members_list",
        summary="成员列表（他人手机号打码）",
        responses={200: EmployerMemberSerializer(many=True), **_errors(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        operation_id="employers_members_create",
        summary="负责人按手机号添加成员",
        request=MemberAddSerializer,
        responses={201: EmployerMemberSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], filterset_fields=[])
    def members(self, request, pk=None):
        employer = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            data = _valid(MemberAddSerializer, request)
            member = services.employer_member_add(employer=employer, actor=request.user, phone=data["phone"])
            return Response(EmployerMemberSerializer(member, context=context).data, status=201)
        members = employer.memberships.select_related("user").order_by("pk")
        return Response(EmployerMemberSerializer(members, many=True, context=context).data)

    @extend_schema(
        operation_id="employers_members_destroy",
        summary="负责人移除成员",
        parameters=[_MEMBER_ID],
        request=None,
        responses={204: None, **_errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<member_id>\d+)", filterset_fields=[])
    def member_remove(self, request, pk=None, member_id=None):
        employer = self.get_object()
        member = get_object_or_404(employer.memberships, pk=member_id)
        services.employer_member_remove(employer=employer, actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _out(self, employer: Employer) -> dict:
        return EmployerSerializer(employer, context=self.get_serializer_context()).data


# ----------------------------------------------------------------------------------------- certificates


@extend_schema_view(
    list=extend_schema(summary="我的证书", responses={200: CertificateSerializer, **_errors(401)}),
    retrieve=extend_schema(responses={200: CertificateSerializer, **_errors(401, 404)}),
)
class CertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own certificates; anyone else's is 404."""

    serializer_class = CertificateSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-submitted_at"
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Certificate.objects.none()
        return selectors.certificates_for_user(user=self.request.user)

    @extend_schema(
        summary="上传证书（multipart）",
        request={"multipart/form-data": CertificateSubmitSerializer},
        responses={201: CertificateSerializer, **_errors(400, 401)},
    )
    def create(self, request):
        data = _valid(CertificateSubmitSerializer, request)
        certificate = services.certificate_submit(user=request.user, **data)
        return Response(
            CertificateSerializer(certificate, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


# ------------------------------------------------------------------------------------------- catalogues


class PublicCatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """Short public lists for pickers: readable without login, not paginated."""

    permission_classes = (permissions.AllowAny,)
    pagination_class = None


class CertificateTypeViewSet(PublicCatalogueViewSet):
    queryset = CertificateType.objects.all()
    serializer_class = CertificateTypeSerializer


class ServicePointViewSet(PublicCatalogueViewSet):
    queryset = ServicePoint.objects.filter(is_active=True).select_related("area")
    serializer_class = ServicePointSerializer
    filterset_fields = ["kind", "area", "parent"]


# ------------------------------------------------------------------------------------------------ staff


class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review queues: lists, records and decisions all go through ``get_queryset``, cut to the staff
    member's service points (core.scoping), so another point's record is a 404 everywhere."""

    permission_classes = (IsStaffWithPerms,)
    pagination_class = ViewOrderedCursorPagination
    # Oldest first: a review queue is worked in the order people asked.
    ordering = "pk"

    def get_queryset(self):
        return objects_visible_to(self.request.user, super().get_queryset())


_STAFF_ERRORS = _errors(401, 403, 404)


@extend_schema_view(
    list=extend_schema(summary="实名审核队列", responses={200: StaffRealNameSerializer, **_STAFF_ERRORS}),
    retrieve=extend_schema(responses={200: StaffRealNameSerializer, **_STAFF_ERRORS}),
)
class StaffRealNameViewSet(StaffViewSet):
    # The encrypted number is not even decrypted for the queue; only unmask reads it.
    queryset = RealName.objects.select_related("user").defer("id_number")
    serializer_class = StaffRealNameSerializer
    staff_perms = ("accounts.view_realname",)
    filterset_fields = ["status", "method"]

    @extend_schema(request=None, responses={200: StaffRealNameSerializer, **_STAFF_ERRORS, **_errors(409)})
    @action(detail=True, methods=["post"], staff_perms=("accounts.change_realname",))
    def approve(self, request, pk=None):
        record = services.realname_approve(realname=self.get_object(), actor=request.user)
        return Response(self.get_serializer(record).data)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: StaffRealNameSerializer, **_STAFF_ERRORS, **_errors(400, 409)},
    )
    @action(detail=True, methods=["post"], staff_perms=("accounts.change_realname",))
    def reject(self, request, pk=None):
        data = _valid(ReasonSerializer, request)
        record = services.realname_reject(
            realname=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return Response(self.get_serializer(record).data)

    @extend_schema(
        summary="查看完整身份证号",
        description="需要“可查看完整身份证号”权限；每次查看连同原因和IP写入审计日志。",
        request=UnmaskSerializer,
        responses={200: FullIdNumberSerializer, **_STAFF_ERRORS, **_errors(400)},
    )
    @action(detail=True, methods=["post"])
    def unmask(self, request, pk=None):
        data = _valid(UnmaskSerializer, request)
        number = services.realname_unmask(
            realname=self.get_object(),
            actor=request.user,
            ip_address=client_ip(request),
            reason=data["reason"],
        )
        return Response(FullIdNumberSerializer({"id_number": number}).data)


_EMPLOYER_DECISION = {200: StaffEmployerSerializer, **_STAFF_ERRORS, **_errors(400, 409)}


@extend_schema_view(
    list=extend_schema(summary="用工主体审核队列", responses={200: StaffEmployerSerializer, **_STAFF_ERRORS}),
    retrieve=extend_schema(responses={200: StaffEmployerSerializer, **_STAFF_ERRORS}),
    approve=extend_schema(request=None, responses=_EMPLOYER_DECISION),
    reinstate=extend_schema(request=None, responses=_EMPLOYER_DECISION),
    reject=extend_schema(request=ReasonSerializer, responses=_EMPLOYER_DECISION),
    suspend=extend_schema(request=ReasonSerializer, responses=_EMPLOYER_DECISION),
)
class StaffEmployerViewSet(StaffViewSet):
    queryset = Employer.objects.select_related("created_by")
    serializer_class = StaffEmployerSerializer
    staff_perms = ("accounts.view_employer",)
    filterset_fields = ["status", "kind"]

    @action(detail=True, methods=["post"], staff_perms=("accounts.change_employer",))
    def approve(self, request, pk=None):
        employer = services.employer_approve(employer=self.get_object(), actor=request.user)
        return Response(self.get_serializer(employer).data)

    @action(detail=True, methods=["post"], staff_perms=("accounts.change_employer",))
    def reject(self, request, pk=None):
        data = _valid(ReasonSerializer, request)
        employer = services.employer_reject(
            employer=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return Response(self.get_serializer(employer).data)

    @action(detail=True, methods=["post"], staff_perms=("accounts.change_employer",))
    def suspend(self, request, pk=None):
        data = _valid(ReasonSerializer, request)
        employer = services.employer_suspend(
            employer=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return Response(self.get_serializer(employer).data)

    @action(detail=True, methods=["post"], staff_perms=("accounts.change_employer",))
    def reinstate(self, request, pk=None):
        employer = services.employer_reinstate(employer=self.get_object(), actor=request.user)
        return Response(self.get_serializer(employer).data)


_CERTIFICATE_DECISION = {200: StaffCertificateSerializer, **_STAFF_ERRORS, **_errors(400, 409)}


@extend_schema_view(
    list=extend_schema(summary="证书审核队列", responses={200: StaffCertificateSerializer, **_STAFF_ERRORS}),
    retrieve=extend_schema(responses={200: StaffCertificateSerializer, **_STAFF_ERRORS}),
    approve=extend_schema(request=None, responses=_CERTIFICATE_DECISION),
    reject=extend_schema(request=ReasonSerializer, responses=_CERTIFICATE_DECISION),
)
class StaffCertificateViewSet(StaffViewSet):
    queryset = Certificate.objects.select_related("user", "cert_type")
    serializer_class = StaffCertificateSerializer
    staff_perms = ("accounts.view_certificate",)
    filterset_fields = ["status", "cert_type"]

    @action(detail=True, methods=["post"], staff_perms=("accounts.change_certificate",))
    def approve(self, request, pk=None):
        certificate = services.certificate_approve(certificate=self.get_object(), actor=request.user)
        return Response(self.get_serializer(certificate).data)

    @action(detail=True, methods=["post"], staff_perms=("accounts.change_certificate",))
    def reject(self, request, pk=None):
        data = _valid(ReasonSerializer, request)
        certificate = services.certificate_reject(
            certificate=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return Response(self.get_serializer(certificate).data)


class AssistedRegistrationView(APIView):
    """代注册: station staff register a villager; the account waits for the code sent to the villager."""

    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("accounts.register_on_behalf",)

    @extend_schema(
        operation_id="staff_assisted_registrations_create",
        summary="代注册（确认码发到求职者本人手机）",
        request=AssistedRegistrationSerializer,
        responses={201: AssistedRegistrationResultSerializer, **_errors(400, 401, 403, 409, 429)},
        tags=["staff"],
    )
    def post(self, request):
        data = _valid(AssistedRegistrationSerializer, request)
        user = services.user_register_assisted(
            staff=request.user,
            phone=data["phone"],
            name=data["name"],
            id_number=data["id_number"],
            wanted_trade_ids=[trade.pk for trade in data["wanted_trades"]],
        )
        result = {"user": user, "expires_in": int(settings.PHONE_CODE_TTL.total_seconds())}
        return Response(AssistedRegistrationResultSerializer(result).data, status=status.HTTP_201_CREATED)


class AssistedConfirmView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("accounts.register_on_behalf",)

    @extend_schema(
        operation_id="staff_assisted_registrations_confirm",
        summary="求职者读出确认码，账户生效",
        request=AssistedConfirmSerializer,
        responses={200: AssistedUserSerializer, **_errors(400, 401, 403, 409)},
        tags=["staff"],
    )
    def post(self, request):
        data = _valid(AssistedConfirmSerializer, request)
        user = services.user_confirm_assisted(staff=request.user, phone=data["phone"], code=data["code"])
        return Response(AssistedUserSerializer(user).data)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
