"""The xAPI vocabulary of Learning Commons: which verb and object activity type each domain event
becomes, which activity type each kind of thing in the tool has, and the extensions we use.

Every reused IRI was checked against its published vocabulary (docs/xapi.md lists the sources):

- ADL (http://adlnet.gov/expapi/verbs/…): asked, attended, commented, completed, experienced,
  launched, progressed; ADL activity types course, meeting, question, profile.
- AcrossX profile (https://w3id.org/xapi/acrossx): verbs posted, edited, liked, reported; activity
  type learning-plan.
- Tin Can registry (http://id.tincanapi.com/…): verbs replied, voted-up, mentored, rated; activity types
  discussion, forum-reply, goal.
- Activity Streams 1.0 (http://activitystrea.ms/…): request, accept, reject, agree.
- TLA profile v0.10 (https://w3id.org/xapi/tla): verbs planned, asserted; activity type competency.
- cmi5 profile: result extension progress (an integer 0-100).

Where no published term fits we mint our own under ``{TOOL_BASE_URL}/xapi/`` (``Term.minted``);
those are the concepts of our own xAPI Profile (see :mod:`plugin.xapi.profile`).
"""

from __future__ import annotations

from dataclasses import dataclass

from plugin import events
from plugin.events import DomainEvent

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"
ACROSSX = "https://w3id.org/xapi/acrossx/"
TINCAN = "http://id.tincanapi.com/"
ACTIVITY_STREAMS = "http://activitystrea.ms/"
TLA = "https://w3id.org/xapi/tla/"

#: Category activity type of a profile version (used for our profile in context.category).
PROFILE_ACTIVITY_TYPE = ADL_ACTIVITIES + "profile"
#: cmi5's progress result extension: an integer percentage 0-100.
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"


@dataclass(frozen=True)
class Term:
    """A verb, activity type or extension. ``iri`` is absolute for published terms; for minted
    terms it is the path under ``{base}/xapi/`` and ``minted`` is true."""

    iri: str
    label: str
    definition: str
    minted: bool = False

    def resolve(self, base_url: str) -> str:
        return f"{xapi_base(base_url)}/{self.iri}" if self.minted else self.iri


def xapi_base(base_url: str) -> str:
    return base_url.rstrip("/") + "/xapi"


def _own(path: str, label: str, definition: str) -> Term:
    return Term(path, label, definition, minted=True)


# --- verbs -----------------------------------------------------------------------------------
class Verbs:
    POSTED = Term(
        ACROSSX + "verbs/posted", "posted", "Posting a discussion topic or message on a forum."
    )
    ASKED = Term(
        ADL_VERBS + "asked",
        "asked",
        "An inquiry by the actor with the expectation of a response or answer.",
    )
    REPLIED = Term(
        TINCAN + "verb/replied",
        "replied",
        "The actor posted a reply to a forum, comment thread or discussion.",
    )
    COMMENTED = Term(
        ADL_VERBS + "commented",
        "commented",
        "The actor provided written annotations on or about an object.",
    )
    EDITED = Term(
        ACROSSX + "verbs/edited",
        "edited",
        "The actor added or modified the content in a document or object.",
    )
    LIKED = Term(
        ACROSSX + "verbs/liked",
        "liked",
        "The actor approves of, recommends, or endorses the object.",
    )
    VOTED_UP = Term(
        TINCAN + "verb/voted-up",
        "voted up",
        "The actor has voted up a specific object (a thumbs up).",
    )
    REPORTED = Term(
        ACROSSX + "verbs/reported",
        "reported",
        "The actor announced something about the object; here: reported a post to "
        "the moderators (as Open edX uses it for flagged forum posts).",
    )
    ENDORSED = _own(
        "verbs/endorsed",
        "endorsed",
        "Course staff endorsed the object (a post) as a good answer or contribution. "
        "The actor is the endorsing staff member.",
    )
    ACCEPTED_ANSWER = _own(
        "verbs/accepted-answer",
        "accepted as answer",
        "The asker of a question (or staff) marked the object (a reply) as the "
        "accepted answer of its question thread.",
    )
    VIEWED = Term(
        TINCAN + "verb/viewed",
        "viewed",
        "Indicates that the actor has viewed the object (here: opened a discussion thread).",
    )
    REQUESTED = Term(
        ACTIVITY_STREAMS + "request", "requested", "The actor has requested the object."
    )
    ACCEPTED = Term(
        ACTIVITY_STREAMS + "accept",
        "accepted",
        "The actor has accepted the object, for instance an assignment or offer.",
    )
    REJECTED = Term(
        ACTIVITY_STREAMS + "reject", "rejected", "Indicates that the actor has rejected the object."
    )
    AGREED = Term(
        ACTIVITY_STREAMS + "agree",
        "agreed",
        "Indicates that the actor agrees with the object (here: the agreement of a mentorship).",
    )
    MATCHED = _own(
        "verbs/matched",
        "matched",
        "The actor (a programme's staff member) matched mentors and mentees into the object, "
        "a proposed mentorship, by approving a bulk matching.",
    )
    RATED = Term(
        TINCAN + "verb/rated",
        "rated",
        "Action of giving a rating to an object; the rating is in result.score.",
    )
    ATTENDED = Term(
        ADL_VERBS + "attended",
        "attended",
        "The actor was present at a virtual or physical event or activity.",
    )
    MENTORED = Term(TINCAN + "verb/mentored", "mentored", "The actor has mentored the object.")
    EXPERIENCED = Term(
        ADL_VERBS + "experienced",
        "experienced",
        "The actor encountered the object; no completion or achievement implied.",
    )
    PLANNED = Term(
        TLA + "verbs/planned",
        "planned",
        "The actor assigned themselves a new learning goal, without needing approval.",
    )
    PROGRESSED = Term(
        ADL_VERBS + "progressed",
        "progressed",
        "The actor has advanced in the object; the amount is in result.",
    )
    COMPLETED = Term(
        ADL_VERBS + "completed", "completed", "The actor finished or concluded the object."
    )
    ASSERTED = Term(
        TLA + "verbs/asserted",
        "asserted",
        "The learner has provided sufficient evidence to update their measure of "
        "competence in a given competency.",
    )
    LAUNCHED = Term(
        ADL_VERBS + "launched",
        "launched",
        "The actor started the object (here: opened a Learning Commons activity from the LMS).",
    )


# --- activity types, by ActivityRef.kind --------------------------------------------------------
class Types:
    COURSE = Term(ADL_ACTIVITIES + "course", "course", "An LMS course (the LTI context).")
    MEETING = Term(ADL_ACTIVITIES + "meeting", "meeting", "A gathering of people.")
    QUESTION = Term(ADL_ACTIVITIES + "question", "question", "A question.")
    DISCUSSION = Term(TINCAN + "activitytype/discussion", "discussion", "A discussion thread.")
    FORUM_REPLY = Term(
        TINCAN + "activitytype/forum-reply",
        "forum reply",
        "A post in a thread that is not its first.",
    )
    GOAL = Term(TINCAN + "activitytype/goal", "goal", "Something the actor wants to achieve.")
    LEARNING_PLAN = Term(
        ACROSSX + "activities/learning-plan",
        "learning plan",
        "A plan organising learning activities.",
    )
    COMPETENCY = Term(
        TLA + "activity-types/competency",
        "competency",
        "A knowledge, skill, ability, or other object needed to perform a task.",
    )
    BOARD = _own(
        "activity-types/board",
        "board",
        "A Learning Commons discussion board: the forum of one course activity, "
        "holding discussion and question threads.",
    )
    PLACEMENT = _own(
        "activity-types/placement",
        "course activity",
        "A Learning Commons activity placed in an LMS course (an LTI resource "
        "link) and the widget it opens.",
    )
    MENTORING_REQUEST = _own(
        "activity-types/mentoring-request",
        "mentoring request",
        "A learner's request for a mentor, naming the competencies and goal they want help with.",
    )
    MENTORSHIP = _own(
        "activity-types/mentorship",
        "mentorship",
        "An agreed mentoring relationship between mentors and mentees, with "
        "its start, end, cadence and goals.",
    )
    EXPERIENCE = _own(
        "activity-types/experience",
        "work experience",
        "A work assignment, stretch task or reflection a learner logs against a "
        "development goal (experiential learning).",
    )


#: The activity type of each ``ActivityRef.kind`` (its default variant; see ACTIVITY_VARIANTS).
ACTIVITY_TYPES: dict[str, Term] = {
    "course": Types.COURSE,
    "placement": Types.PLACEMENT,
    "board": Types.BOARD,
    "thread": Types.DISCUSSION,
    "post": Types.FORUM_REPLY,
    "mentoring-request": Types.MENTORING_REQUEST,
    "mentorship": Types.MENTORSHIP,
    "checkin": Types.MEETING,
    "goal": Types.GOAL,
    "plan": Types.LEARNING_PLAN,
    "experience": Types.EXPERIENCE,
    "competency": Types.COMPETENCY,
}

#: Kinds whose things come in variants with their own activity type, by ``ActivityRef.variant``.
#: A thread's variant is fixed when it is started, so one activity id keeps one type.
ACTIVITY_VARIANTS: dict[str, dict[str, Term]] = {
    "thread": {"discussion": Types.DISCUSSION, "question": Types.QUESTION},
}


def activity_type(kind: str, variant: str | None = None) -> Term:
    """The activity type of a thing: a property of the thing (its kind and variant), never of
    the place it takes in a statement (object, parent, grouping). Raises ValueError for an
    unknown kind or variant."""
    if kind not in ACTIVITY_TYPES:
        raise ValueError(f"unknown activity kind {kind!r} (see plugin.xapi.vocabulary)")
    if variant is None:
        return ACTIVITY_TYPES[kind]
    term = ACTIVITY_VARIANTS.get(kind, {}).get(variant)
    if term is None:
        raise ValueError(f"unknown variant {variant!r} of activity kind {kind!r}")
    return term


def kind_types(kind: str) -> list[Term]:
    """Every activity type a thing of ``kind`` can have (one, unless the kind has variants)."""
    return list(dict.fromkeys([ACTIVITY_TYPES[kind], *ACTIVITY_VARIANTS.get(kind, {}).values()]))


# --- extensions ---------------------------------------------------------------------------------
class Extensions:
    TOOL_VERSION = _own(
        "extensions/tool-version",
        "tool version",
        "The Learning Commons release that recorded the statement.",
    )
    REACTION = _own(
        "extensions/reaction",
        "reaction",
        "The kind of reaction the actor gave (for example like, helpful, thanks).",
    )


# --- one statement shape per (event kind, variant) ------------------------------------------------
@dataclass(frozen=True)
class StatementKind:
    """How one kind of domain event becomes a statement; one Statement Template in our profile."""

    slug: str
    event_kind: str
    verb: Term
    object_kind: str
    object_type: Term
    title: str
    definition: str
    parent_kinds: tuple[str, ...] = ()
    grouping_kinds: tuple[str, ...] = ()
    result_completion: bool = False
    result_progress: bool = False
    result_reaction: bool = False
    result_score: bool = False  # data["rating"] on the scale data["rating_min"]..data["rating_max"]
    context_statement: bool = False


_BOARD_GROUPING = ("course", "placement")

STATEMENT_KINDS: tuple[StatementKind, ...] = (
    StatementKind(
        "tool-launched",
        events.LAUNCHED,
        Verbs.LAUNCHED,
        "placement",
        Types.PLACEMENT,
        "Opened a course activity",
        "A person opened a Learning Commons activity from their LMS course.",
    ),
    StatementKind(
        "thread-posted",
        events.THREAD_POSTED,
        Verbs.POSTED,
        "thread",
        Types.DISCUSSION,
        "Started a discussion",
        "A person started a discussion thread on a board.",
        parent_kinds=("board",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "question-asked",
        events.THREAD_POSTED,
        Verbs.ASKED,
        "thread",
        Types.QUESTION,
        "Asked a question",
        "A person started a question thread on a board (Q&A mode).",
        parent_kinds=("board",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "reply-posted",
        events.REPLY_POSTED,
        Verbs.REPLIED,
        "post",
        Types.FORUM_REPLY,
        "Replied in a thread",
        "A person replied in a thread; the object is the reply.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "comment-posted",
        events.COMMENT_POSTED,
        Verbs.COMMENTED,
        "post",
        Types.FORUM_REPLY,
        "Commented on a post",
        "A person commented on a post; the object is the post commented on.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "post-edited",
        events.POST_EDITED,
        Verbs.EDITED,
        "post",
        Types.FORUM_REPLY,
        "Edited a post",
        "A person edited a post (a new revision).",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "post-liked",
        events.REACTION_ADDED,
        Verbs.LIKED,
        "post",
        Types.FORUM_REPLY,
        "Reacted to a post",
        "A person reacted to a post; the reaction kind is in a result extension.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
        result_reaction=True,
    ),
    StatementKind(
        "post-voted-up",
        events.REACTION_ADDED,
        Verbs.VOTED_UP,
        "post",
        Types.FORUM_REPLY,
        "Marked a post helpful",
        "A person marked a post as helpful.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
        result_reaction=True,
    ),
    StatementKind(
        "answer-endorsed",
        events.ANSWER_ENDORSED,
        Verbs.ENDORSED,
        "post",
        Types.FORUM_REPLY,
        "Endorsed an answer",
        "Course staff endorsed a reply as a good answer.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "answer-accepted",
        events.ANSWER_ACCEPTED,
        Verbs.ACCEPTED_ANSWER,
        "post",
        Types.FORUM_REPLY,
        "Accepted an answer",
        "The asker (or staff) accepted a reply as the answer to a question.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "post-reported",
        events.POST_REPORTED,
        Verbs.REPORTED,
        "post",
        Types.FORUM_REPLY,
        "Reported a post",
        "A person reported a post to the moderators.",
        parent_kinds=("thread",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "thread-viewed",
        events.THREAD_VIEWED,
        Verbs.VIEWED,
        "thread",
        Types.DISCUSSION,
        "Viewed a discussion",
        "A person opened a thread (recorded only on boards whose instructor turned it on).",
        parent_kinds=("board",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "question-viewed",
        events.THREAD_VIEWED,
        Verbs.VIEWED,
        "thread",
        Types.QUESTION,
        "Viewed a question",
        "A person opened a question thread (recorded only on boards whose instructor turned "
        "it on).",
        parent_kinds=("board",),
        grouping_kinds=_BOARD_GROUPING,
    ),
    StatementKind(
        "mentor-requested",
        events.MENTOR_REQUESTED,
        Verbs.REQUESTED,
        "mentoring-request",
        Types.MENTORING_REQUEST,
        "Requested a mentor",
        "A learner asked for a mentor; wanted competencies are in context 'other'.",
    ),
    StatementKind(
        "mentorship-accepted",
        events.MENTORSHIP_ACCEPTED,
        Verbs.ACCEPTED,
        "mentorship",
        Types.MENTORSHIP,
        "Accepted a mentorship",
        "A mentor or mentee accepted a mentorship agreement.",
    ),
    StatementKind(
        "mentorship-declined",
        events.MENTORSHIP_DECLINED,
        Verbs.REJECTED,
        "mentoring-request",
        Types.MENTORING_REQUEST,
        "Declined a mentoring request",
        "A mentor declined a learner's request (the message stays in the tool); the requested "
        "competencies are in context 'other'.",
    ),
    StatementKind(
        "mentorship-matched",
        events.MENTORSHIP_MATCHED,
        Verbs.MATCHED,
        "mentorship",
        Types.MENTORSHIP,
        "Matched a mentorship",
        "Programme staff approved a bulk matching that proposed this mentorship.",
    ),
    StatementKind(
        "agreement-made",
        events.AGREEMENT_MADE,
        Verbs.AGREED,
        "mentorship",
        Types.MENTORSHIP,
        "Agreed a mentoring agreement",
        "A mentor or mentee accepted the agreement of their mentorship (dates, cadence, goals); "
        "the mentorship starts once every member has.",
    ),
    StatementKind(
        "feedback-given",
        events.FEEDBACK_GIVEN,
        Verbs.RATED,
        "mentorship",
        Types.MENTORSHIP,
        "Gave feedback on a mentorship",
        "A member of a mentorship answered a pulse survey; result.score holds the 1-5 rating "
        "(the comment stays in the tool).",
        result_score=True,
    ),
    StatementKind(
        "checkin-attended",
        events.CHECKIN_LOGGED,
        Verbs.ATTENDED,
        "checkin",
        Types.MEETING,
        "Attended a mentoring check-in",
        "A mentee took part in a mentoring check-in.",
        parent_kinds=("mentorship",),
    ),
    StatementKind(
        "checkin-mentored",
        events.CHECKIN_LOGGED,
        Verbs.MENTORED,
        "checkin",
        Types.MEETING,
        "Mentored in a check-in",
        "A mentor held a mentoring check-in with their mentee(s).",
        parent_kinds=("mentorship",),
    ),
    StatementKind(
        "experience-logged",
        events.EXPERIENCE_LOGGED,
        Verbs.EXPERIENCED,
        "experience",
        Types.EXPERIENCE,
        "Logged a work experience",
        "A learner logged a work assignment or reflection against a goal.",
        parent_kinds=("goal",),
    ),
    StatementKind(
        "goal-set",
        events.GOAL_SET,
        Verbs.PLANNED,
        "goal",
        Types.GOAL,
        "Set a development goal",
        "A learner set a goal in their development plan.",
        parent_kinds=("plan",),
    ),
    StatementKind(
        "goal-progressed",
        events.GOAL_PROGRESSED,
        Verbs.PROGRESSED,
        "goal",
        Types.GOAL,
        "Progressed on a goal",
        "A learner's goal progressed; result carries the cmi5 progress extension (0-100).",
        parent_kinds=("plan",),
        result_progress=True,
    ),
    StatementKind(
        "goal-completed",
        events.GOAL_COMPLETED,
        Verbs.COMPLETED,
        "goal",
        Types.GOAL,
        "Completed a goal",
        "A learner completed a goal of their development plan.",
        parent_kinds=("plan",),
        result_completion=True,
    ),
    StatementKind(
        "evidence-asserted",
        events.EVIDENCE_ACCEPTED,
        Verbs.ASSERTED,
        "competency",
        Types.COMPETENCY,
        "Evidence of a competency accepted",
        "A reviewer accepted evidence of a learner's competency; the actor is the "
        "learner, context.statement points at the evidence statement.",
        context_statement=True,
    ),
)

_BY_SLUG = {k.slug: k for k in STATEMENT_KINDS}
HELPFUL_REACTIONS = frozenset({"helpful", "upvote", "up", "voted-up"})


def statement_kind(event: DomainEvent) -> StatementKind:
    """The statement shape for this event (some event kinds have variants, chosen by data)."""
    kind = event.kind
    data = event.data or {}
    if kind in (events.THREAD_POSTED, events.THREAD_VIEWED):
        # The thread's own type chooses: a question thread is asked and viewed as a question.
        is_question = (
            event.object.kind == "thread"
            and activity_type("thread", event.object.variant) is Types.QUESTION
        )
        if kind == events.THREAD_POSTED:
            return _BY_SLUG["question-asked" if is_question else "thread-posted"]
        return _BY_SLUG["question-viewed" if is_question else "thread-viewed"]
    if kind == events.REACTION_ADDED:
        reaction = str(data.get("reaction") or "like").lower()
        return _BY_SLUG["post-voted-up" if reaction in HELPFUL_REACTIONS else "post-liked"]
    if kind == events.CHECKIN_LOGGED:
        return _BY_SLUG["checkin-mentored" if data.get("role") == "mentor" else "checkin-attended"]
    for candidate in STATEMENT_KINDS:
        if candidate.event_kind == kind:
            return candidate
    raise ValueError(f"no xAPI statement is defined for event kind {kind!r}")


def kind_by_slug(slug: str) -> StatementKind:
    return _BY_SLUG[slug]


def minted_terms() -> list[tuple[str, Term]]:
    """(concept type, term) for every IRI we mint: the concepts of our xAPI Profile."""
    out: list[tuple[str, Term]] = []
    for name in vars(Verbs):
        term = getattr(Verbs, name)
        if isinstance(term, Term) and term.minted:
            out.append(("Verb", term))
    for name in vars(Types):
        term = getattr(Types, name)
        if isinstance(term, Term) and term.minted:
            out.append(("ActivityType", term))
    out.append(("ContextExtension", Extensions.TOOL_VERSION))
    out.append(("ResultExtension", Extensions.REACTION))
    return out


def all_terms() -> list[Term]:
    """Every verb, activity type and extension of the vocabulary (minted or reused)."""
    return [
        term
        for holder in (Verbs, Types, Extensions)
        for term in vars(holder).values()
        if isinstance(term, Term)
    ]


def all_verbs() -> list[Term]:
    seen: dict[str, Term] = {}
    for k in STATEMENT_KINDS:
        seen.setdefault(k.verb.iri, k.verb)
    return list(seen.values())
