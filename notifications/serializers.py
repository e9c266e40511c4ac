from rest_framework import serializers

from .models import Message, Preference, PushSubscription


class MessageSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "template", "body", "created_at", "read_at", "unread"]

    def get_unread(self, obj) -> bool:
        return obj.read_at is None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preference
        fields = ["marketing_consent", "marketing_consent_at", *Preference.SWITCHES]
        read_only_fields = ["marketing_consent_at"]


class PreferenceUpdateSerializer(serializers.Serializer):
    marketing_consent = serializers.BooleanField(required=False)
    sms_recommendations = serializers.BooleanField(required=False)
    inapp_recommendations = serializers.BooleanField(required=False)
    sms_activities = serializers.BooleanField(required=False)
    inapp_activities = serializers.BooleanField(required=False)
    push_recommendations = serializers.BooleanField(required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "没有这个设置项"))
        if not attrs:
            raise serializers.ValidationError("没有要修改的设置")
        return attrs


class PushSubscriptionSerializer(serializers.ModelSerializer):
    """One of the signed-in person's devices; the endpoint and keys are never sent back."""

    class Meta:
        model = PushSubscription
        fields = ["id", "label", "created_at", "last_success_at"]


class PushSubscribeSerializer(serializers.Serializer):
    """What ``PushSubscription.toJSON()`` gives in the browser, plus a label for the device list."""

    endpoint = serializers.CharField(max_length=1000)
    # {"p256dh": ..., "auth": ...}; each checked by notifications.push (errors name "p256dh" / "auth").
    keys = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True))
    label = serializers.CharField(max_length=60, required=False, allow_blank=True)
    expirationTime = serializers.IntegerField(required=False, allow_null=True)


class PushUnsubscribeSerializer(serializers.Serializer):
    endpoint = serializers.CharField(max_length=1000)


class PushStatusSerializer(serializers.Serializer):
    vapid_public_key = serializers.CharField()
    subscriptions = PushSubscriptionSerializer(many=True)
