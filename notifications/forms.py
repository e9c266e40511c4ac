from django import forms

from core.forms import PageForm


class PreferenceForm(PageForm):
    marketing_consent = forms.BooleanField(
        label="我同意接收岗位推荐",
        required=False,
        help_text="同意后，平台会把适合您的新岗位发给您。可以随时取消。",
    )
    sms_recommendations = forms.BooleanField(label="用短信发岗位推荐", required=False)
    inapp_recommendations = forms.BooleanField(label="在“我的消息”里显示岗位推荐", required=False)
    sms_activities = forms.BooleanField(label="用短信通知培训、招聘会", required=False)
    inapp_activities = forms.BooleanField(label="在“我的消息”里显示培训、招聘会", required=False)
    push_recommendations = forms.BooleanField(label="用手机推送（叮咚）发岗位推荐", required=False)
