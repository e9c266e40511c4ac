from rest_framework import serializers

from .models import Message, Preference


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

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "没有这个设置项"))
        if not attrs:
            raise serializers.ValidationError("没有要修改的设置")
        return attrs
