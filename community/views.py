from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chat import selectors as chat_selectors
from chat.models import Conversation, OfflineMessage
from community import selectors


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and selectors.active_expert_for_user(user=user):
        return redirect("console")
    if user.is_authenticated and user.is_staff:
        return redirect("staff_overview")
    return render(request, "home.html")


@login_required
def console(request: HttpRequest) -> HttpResponse:
    expert = selectors.active_expert_for_user(user=request.user)
    if expert is None:
        return render(request, "not_an_expert.html", status=403)
    return render(
        request,
        "console.html",
        {
            "expert": expert,
            "past_conversations": chat_selectors.expert_past_conversations(expert=expert),
            "offline_messages": OfflineMessage.objects.filter(handled_at__isnull=True)[:20],
        },
    )


@login_required
def past_conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    expert = selectors.active_expert_for_user(user=request.user)
    conversation = chat_selectors.conversation_get(conversation_id=conversation_id)
    if conversation is None or expert is None or conversation.expert_id != expert.pk:
        raise Http404
    return render(
        request,
        "past_conversation.html",
        {
            "conversation": conversation,
            "messages": chat_selectors.messages_after(conversation_id=conversation.pk, last_seq=0),
            "follow_ups": conversation.follow_ups.all(),
        },
    )


@staff_member_required
def staff_overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/overview.html",
        {
            "waiting": Conversation.objects.filter(status="waiting")
            .select_related("visitor")
            .order_by("queued_at"),
            "active": Conversation.objects.filter(status="active")
            .select_related("visitor", "expert")
            .order_by("assigned_at"),
            "offline_messages": OfflineMessage.objects.all()[:50],
        },
    )
