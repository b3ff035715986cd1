"""Seed data for ``benchmarks/boards.py``: one course board with many threads and posts.

The course, its board placement and its first people come from the test suite's own builder
(``tests/social/social_world.make_course``); more learners, cohorts and staff are added with the ORM.
Threads, posts, reactions, revisions, follows and read markers are planned in Python (seeded
random, so every run and both databases get the same shape), then bulk-inserted with SQLAlchemy Core
``insert()`` executemany in chunks, one transaction per chunk. Ids are given explicitly in
chronological order (as a live board would have them); PostgreSQL sequences are moved past them.

Post bodies are real Markdown and their HTML is what :func:`plugin.social.markdown.render` makes:
each body is a fresh plain paragraph followed by blocks from a pool rendered once by the project's
renderer (emphasis, code, links, lists, quotes, code blocks). A sample of whole bodies is checked
against the renderer before anything is inserted. The thread counters (replies, comments, helpful,
last activity) are computed from the planned rows, so they agree with the posts and reactions.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.engine import Engine

from plugin.db import get_engine, new_session
from plugin.lti import roles
from plugin.lti.models import LaunchSession, LmsGroup, LmsGroupMember, Membership, User
from plugin.social import boards, markdown
from plugin.social.models import (
    Follow,
    Post,
    PostRevision,
    Reaction,
    ReadMarker,
    Thread,
)

CHUNK = 5000
BIG_THREAD_REPLIES = 500
BIG_THREAD_COMMENTS = 150
LEARNERS = 300
COHORTS = ("Red cohort", "Blue cohort", "Green cohort", "Amber cohort", "Violet cohort", "Teal")


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = _words(
    "the a an and or but so to of in on for with at by from as about into after before when "
    "if that this these those we I you they it is are was were be been have has had do does "
    "did can could would should will might my our your their"
)

# Content words, most frequent first (drawn with a Zipf law, so a few are everywhere and most
# are rare, as in a real course forum).
CONTENT_WORDS = _words(
    "feedback team people work question meeting example manager goal time project learning "
    "conversation idea practice week colleague skill change problem approach coaching answer "
    "listen trust role plan course experience decision process situation support result "
    "strategy impact behaviour culture growth mentor reflection priority stakeholder "
    "communication leadership performance review habit energy focus delegation conflict "
    "motivation recognition workshop agenda deadline budget customer product quality risk "
    "presentation report meetingnotes template checklist framework model theory case study "
    "discussion reading chapter article video assignment module exercise survey interview "
    "research data evidence metric target outcome progress milestone sprint backlog roadmap "
    "retrospective standup kanban onboarding handover escalation negotiation persuasion "
    "empathy curiosity resilience accountability ownership autonomy inclusion diversity "
    "wellbeing burnout boundary calendar inbox email chat remote hybrid office commute "
    "workload capacity estimate forecast scenario assumption hypothesis experiment pilot "
    "prototype launch rollout adoption training curriculum competency assessment rubric "
    "portfolio certificate apprenticeship internship graduate senior junior peer director "
    "executive board sponsor champion ally advocate network community forum thread post "
    "reply comment vote badge streak milestone celebration failure mistake lesson insight "
    "pattern principle value purpose vision mission story narrative metaphor analogy "
    "diagram whiteboard sticky spreadsheet dashboard database query pipeline deployment "
    "incident postmortem outage pager rotation oncall runbook playbook policy compliance "
    "audit privacy security consent contract supplier vendor invoice procurement tender "
    "okr kpi sbi grow raci swot pestle moscow eisenhower pomodoro gantt scrum safe lean "
    "sixsigma kaizen gemba hoshin jidoka andon heijunka muda mura muri poka yoke"
)

# The long tail: names and jargon that turn up now and then (a few dozen posts each).
RARE_WORDS = _words(
    "cynefin johari tuckman kolb bloom maslow herzberg drucker senge argyris schein lencioni "
    "kotter lewin hersey blanchard belbin myers briggs enneagram hogan kilmann vroom yetton "
    "mintzberg adair goleman dweck csikszentmihalyi sinek edmondson duhigg newport covey gtd "
    "pareto ishikawa deming juran crosby taguchi ohno shingo toyoda womack liker rother ries "
    "osterwalder cagan kahneman tversky thaler sunstein cialdini voss rosenberg nvc ikigai "
    "hansei nemawashi obeya genchi jugaad hygge lagom sisu kintsugi shoshin ringi gaman"
)

QUESTION_STARTS = (
    "How do you handle",
    "What is your approach to",
    "Any tips on",
    "Has anyone tried",
    "Why does",
    "When should we use",
    "Struggling with",
    "Best way to explain",
    "Resources for",
    "Week reflection:",
)
CODE_SNIPPETS = (
    ("python", "def score(team):\n    return sum(p.goals_met for p in team) / len(team)"),
    ("sql", "SELECT person, count(*) FROM feedback\nGROUP BY person\nORDER BY 2 DESC;"),
    ("text", "Situation: weekly review\nBehaviour: interrupted twice\nImpact: team went quiet"),
    ("yaml", "goal: run a retro\ncadence: fortnightly\nowner: team lead"),
)


@dataclass
class World:
    """What the benchmark needs to know about the seeded course."""

    board_id: int
    big_thread_id: int
    learner_id: int
    staff_id: int
    learner_token: str = ""
    staff_token: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    word_posts: dict[str, int] = field(default_factory=dict)  # content word → posts holding it
    seconds: float = 0.0


# --- text ----------------------------------------------------------------------------------------
class Writer:
    """Random but plausible forum text; the Markdown blocks are rendered once by the project."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        n = len(CONTENT_WORDS)
        weights = [1 / (rank + 1) ** 1.05 for rank in range(n)]
        total = sum(weights)
        self._cum = list(_cumulative(w / total for w in weights))
        self.pool: list[tuple[str, str]] = []

    def word(self) -> str:
        if self.rng.random() < 0.004:
            return self.rng.choice(RARE_WORDS)
        return CONTENT_WORDS[_pick(self._cum, self.rng.random())]

    def sentence(self, low: int = 6, high: int = 16) -> str:
        words = []
        for _ in range(self.rng.randint(low, high)):
            words.append(
                self.rng.choice(FUNCTION_WORDS) if self.rng.random() < 0.45 else self.word()
            )
        words[0] = words[0].capitalize()
        return " ".join(words) + self.rng.choice("...?")

    def plain(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def _inline(self) -> str:
        parts = []
        for _ in range(self.rng.randint(1, 3)):
            words = self.sentence().split(" ")
            i = self.rng.randrange(len(words) - 1)
            mark = self.rng.random()
            if mark < 0.35:
                words[i] = f"**{words[i]}**"
            elif mark < 0.6:
                words[i] = f"*{words[i]}*"
            elif mark < 0.8:
                words[i] = f"`{words[i].lower()}`"
            else:
                slug = words[i].lower().strip(".?")
                words[i] = f"[{words[i]}](https://learning.example/{slug})"
            parts.append(" ".join(words))
        return " ".join(parts)

    def _block(self) -> str:
        kind = self.rng.random()
        if kind < 0.6:
            return self._inline()
        if kind < 0.78:
            items = (self.sentence(3, 8) for _ in range(self.rng.randint(2, 5)))
            return "\n".join(f"- {item}" for item in items)
        if kind < 0.9:
            return "> " + self.sentence()
        lang, code = self.rng.choice(CODE_SNIPPETS)
        return f"```{lang}\n{code}\n```"

    def build_pool(self, size: int) -> None:
        """Blocks and their HTML from the project's renderer (rendered once, reused)."""
        for _ in range(size):
            block = self._block()
            self.pool.append((block, markdown.render(block)))

    def body(self, blocks: int, sentences: int) -> tuple[str, str]:
        """A post body: a fresh paragraph, then ``blocks`` pooled blocks; (markdown, html)."""
        first = self.plain(sentences)
        md_parts, html_parts = [first], [f"<p>{first}</p>\n"]
        for _ in range(blocks):
            md, html = self.rng.choice(self.pool)
            while md.startswith("- ") and md_parts[-1].startswith("- "):
                md, html = self.rng.choice(self.pool)  # two lists in a row would be one
            md_parts.append(md)
            html_parts.append(html)
        return "\n\n".join(md_parts), "".join(html_parts)

    def title(self) -> str:
        words = " ".join(self.word() for _ in range(self.rng.randint(1, 4)))
        end = "?" if self.rng.random() < 0.6 else ""
        return f"{self.rng.choice(QUESTION_STARTS)} {words}{end}"[: boards.MAX_TITLE_CHARS]


def _cumulative(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def _pick(cumulative: list[float], r: float) -> int:
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    return lo


# --- people --------------------------------------------------------------------------------------
@dataclass
class People:
    learners: list[int]
    staff: list[int]
    cohort_of: dict[int, int]  # learner → group id
    members: dict[int, list[int]]  # group id → learners
    learner_id: int  # the learner whose pages are timed
    staff_id: int  # the instructor whose pages are timed


def _make_course(app: Flask, rng: random.Random) -> tuple[int, int, int, int, People]:
    """The course through the test suite's builder, then more people and cohorts."""
    from tests.social.social_world import make_course

    with new_session(app) as s:
        course = make_course(
            s,
            settings={
                "cohort_mode": "groups",
                "anonymous_allowed": "true",
                "posts_per_hour": "0",
            },
        )
        course.placement.title = "Leadership 101 discussion board"
        board = boards.board_for_placement(s, course.placement)
        groups = [course.groups["red"], course.groups["blue"]]
        for i, name in enumerate(COHORTS[2:]):
            group = LmsGroup(context_id=course.context.id, group_id=f"g-{i + 3}", name=name)
            s.add(group)
            groups.append(group)
        s.flush()
        issuer = course.platform.issuer
        learners = [course.users[k] for k in ("lea", "leo", "liv")]
        new_users = []
        for i in range(LEARNERS - len(learners)):
            user = User(
                platform_id=course.platform.id,
                issuer=issuer,
                sub=f"learner-{i}-{uuid.uuid4().hex[:6]}",
                given_name=rng.choice(("Ada", "Ben", "Chloe", "Dev", "Eun", "Femi", "Gus")),
                family_name=rng.choice(("Okafor", "Lind", "Moreau", "Tanaka", "Silva", "Novak")),
            )
            new_users.append(user)
        ta = User(
            platform_id=course.platform.id,
            issuer=issuer,
            sub=f"ta-{uuid.uuid4().hex[:6]}",
            name="Tomas Assistant",
        )
        s.add_all([*new_users, ta])
        s.flush()
        for user in new_users:
            s.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.LEARNER]))
        s.add(
            Membership(
                context_id=course.context.id, user_id=ta.id, roles=[roles.TEACHING_ASSISTANT]
            )
        )
        learners += new_users
        # lea and leo are in red and liv in blue (make_course); the rest round-robin.
        cohort_of = {
            course.users["lea"].id: groups[0].id,
            course.users["leo"].id: groups[0].id,
            course.users["liv"].id: groups[1].id,
        }
        for i, user in enumerate(new_users):
            cohort_of[user.id] = groups[i % len(groups)].id
            s.add(LmsGroupMember(group_id=groups[i % len(groups)].id, user_id=user.id))
        s.commit()
        members: dict[int, list[int]] = {}
        for user_id, group_id in cohort_of.items():
            members.setdefault(group_id, []).append(user_id)
        people = People(
            learners=[u.id for u in learners],
            staff=[course.users["ines"].id, ta.id],
            cohort_of=cohort_of,
            members=members,
            learner_id=course.users["lea"].id,
            staff_id=course.users["ines"].id,
        )
        return course.platform.id, course.context.id, course.placement.id, board.id, people


def launch_token(
    app: Flask, platform_id: int, context_id: int, placement_id: int, user_id: int, role: str
) -> str:
    """A launch session as a completed launch leaves it, and its signed token
    (``plugin.web.issue_token``): what the widget's pages carry in ``lc``."""
    from plugin.web import issue_token

    now = datetime.now(UTC)
    claims = {
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/roles": [role],
        "https://purl.imsglobal.org/spec/lti/claim/context": {
            "id": "c-101",
            "title": "Leadership 101",
        },
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {
            "id": "rl-board",
            "title": "Leadership 101 discussion board",
        },
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {
            "document_target": "iframe",
            "return_url": "https://lms.example/course/101",
        },
        "https://purl.imsglobal.org/spec/lti/claim/custom": {"widget": "board"},
    }
    with new_session(app) as s:
        launch = LaunchSession(
            platform_id=platform_id,
            deployment_id="dep-1",
            user_id=user_id,
            context_id=context_id,
            placement_id=placement_id,
            message_type="LtiResourceLinkRequest",
            roles=[role],
            claims=claims,
            created_at=now,
            expires_at=now + timedelta(hours=8),
        )
        s.add(launch)
        s.commit()
        with app.app_context():
            return issue_token(launch)


# --- the plan ------------------------------------------------------------------------------------
@dataclass
class _PlannedPost:
    thread: int  # index into the thread list
    at: datetime
    author: int
    parent: _PlannedPost | None = None
    opening: bool = False
    id: int = 0


def _allocate(rng: random.Random, total: int, threads: int, cap: int) -> list[int]:
    """Posts per thread (besides the opening post): a skewed spread, some threads unanswered."""
    weights = [0.0 if rng.random() < 0.12 else rng.lognormvariate(0, 1.1) for _ in range(threads)]
    whole = sum(weights) or 1.0
    counts = [min(cap, int(total * w / whole)) for w in weights]
    open_ = [i for i, w in enumerate(weights) if w > 0]
    left = total - sum(counts)
    while left > 0 and open_:
        i = rng.choice(open_)
        if counts[i] < cap:
            counts[i] += 1
            left -= 1
    return counts


def _daytime(rng: random.Random, when: datetime) -> datetime:
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    hour = min(23.99, max(7.0, rng.gauss(14, 3.5)))
    return day + timedelta(hours=hour, seconds=rng.random())


def seed(app: Flask, *, posts: int, threads: int, rng_seed: int = 4) -> World:
    """Seed one course board with ``threads`` threads and ``posts`` posts in all (opening posts
    included), one thread holding up to 500 replies; return what the benchmark needs."""
    rng = random.Random(rng_seed)
    big_replies = min(BIG_THREAD_REPLIES, max(0, (posts - threads) // 2))
    big_comments = min(BIG_THREAD_COMMENTS, max(0, (posts - threads - big_replies) // 4))
    if threads < 2 or posts < threads + big_replies + big_comments:
        raise ValueError("need at least 2 threads and more posts than threads")
    platform_id, context_id, placement_id, board_id, people = _make_course(app, rng)
    writer = Writer(rng)
    writer.build_pool(3000)

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=112)
    learners, staff = people.learners, people.staff
    activity = [1 / (i + 1) ** 0.8 for i in range(len(learners))]  # a few people post a lot
    rng.shuffle(activity)
    learner_cum = list(_cumulative(w / sum(activity) for w in activity))

    def a_learner(group: int | None) -> int:
        if group is not None:
            return rng.choice(people.members[group])
        return learners[_pick(learner_cum, rng.random())]

    # threads: created over 16 weeks, in daytime; the big one is a staff "introduce yourself"
    t_rows: list[dict] = []
    created = sorted(
        _daytime(rng, start + timedelta(days=rng.uniform(0, 110))) for _ in range(threads)
    )
    big_index = threads // 4
    for i, at in enumerate(created):
        by_staff = i == big_index or rng.random() < 0.12
        author = rng.choice(staff) if by_staff else a_learner(None)
        group = None if by_staff else people.cohort_of[author]
        t_rows.append(
            {
                "board_id": board_id,
                "cohort_group_id": group,
                "kind": "question" if (not by_staff and rng.random() < 0.35) else "discussion",
                "title": "Introduce yourself: who are you and what do you want to learn?"
                if i == big_index
                else writer.title(),
                "author_id": author,
                "anonymous": (not by_staff) and rng.random() < 0.05,
                "pinned": i == big_index or (by_staff and rng.random() < 0.01),
                "locked": rng.random() < 0.01,
                "closed": rng.random() < 0.02,
                "endorsed": False,
                "created_at": at,
            }
        )
        if t_rows[-1]["locked"]:
            t_rows[-1]["lock_reason"] = "This week's discussion is over."
    per_thread = _allocate(
        rng, posts - threads - big_replies - big_comments, threads - 1, cap=max(1, big_replies - 1)
    )
    per_thread.insert(big_index, 0)

    planned: list[_PlannedPost] = []
    for i, t in enumerate(t_rows):
        group = t["cohort_group_id"]
        opening = _PlannedPost(i, t["created_at"], t["author_id"], opening=True)
        planned.append(opening)
        if i == big_index:
            n_replies, n_comments = big_replies, big_comments
            mean_gap = (now - t["created_at"]).total_seconds() / (n_replies + 20)
        else:
            n = per_thread[i]
            n_replies = 0 if n == 0 else max(1, round(n * rng.uniform(0.55, 0.85)))
            n_comments = n - n_replies
            mean_gap = rng.uniform(1800, 6 * 3600)
        at = t["created_at"]
        replies: list[_PlannedPost] = []
        for _ in range(n_replies):
            at = at + timedelta(seconds=rng.expovariate(1 / mean_gap))
            if at >= now:
                at = now - timedelta(seconds=rng.uniform(1, 3600))
            author = rng.choice(staff) if rng.random() < 0.08 else a_learner(group)
            replies.append(_PlannedPost(i, at, author))
        for _ in range(n_comments):
            if i == big_index:  # comments all along the long thread
                parent = rng.choice(replies)
            else:  # early replies draw most comments
                parent = replies[min(len(replies) - 1, int(rng.expovariate(1 / 3)))]
            at_c = parent.at + timedelta(seconds=rng.expovariate(1 / 5400))
            if at_c >= now:
                at_c = now - timedelta(seconds=rng.uniform(0, 60))
            author = rng.choice(staff) if rng.random() < 0.05 else a_learner(group)
            planned.append(_PlannedPost(i, max(at_c, parent.at), author, parent=parent))
        planned.extend(replies)
    # ids in time order, as a live board gets them (parents always before their comments)
    planned.sort(key=lambda p: (p.at, p.parent is not None))
    for n, p in enumerate(planned, start=1):
        p.id = n
    for n, t in enumerate(t_rows, start=1):
        t["id"] = n

    # post rows, counters
    stats = {i: Counter() for i in range(threads)}
    last_at = {i: t["created_at"] for i, t in enumerate(t_rows)}
    p_rows: list[dict] = []
    visible_replies: dict[int, list[_PlannedPost]] = {}
    revisions: list[dict] = []
    word_posts: Counter[str] = Counter()
    for p in planned:
        t = t_rows[p.thread]
        hidden = rng.random() < (0.003 if p.opening else 0.005)
        deleted = not p.opening and not hidden and rng.random() < 0.01
        if p.opening:
            md, html = writer.body(rng.randint(0, 3), rng.randint(1, 3))
        elif p.parent is None:
            md, html = writer.body(rng.choice((0, 0, 1, 1, 2)), rng.randint(1, 3))
        else:
            md, html = writer.body(rng.choice((0, 0, 0, 1)), 1)
        for w in set(md.lower().replace("*", " ").replace("`", " ").split()):
            word_posts[w.strip(".?,:[]()")] += 1
        edited = None
        if rng.random() < 0.03 and not deleted:
            edited = p.at + timedelta(minutes=rng.uniform(2, 90))
            revisions.append(
                {
                    "post_id": p.id,
                    "body_markdown": writer.plain(2),
                    "edited_at": edited,
                    "editor_id": p.author,
                }
            )
        p_rows.append(
            {
                "id": p.id,
                "thread_id": t["id"],
                "parent_id": p.parent.id if p.parent else None,
                "is_opening": p.opening,
                "author_id": p.author,
                "anonymous": t["anonymous"]
                if p.opening
                else (p.author not in staff and rng.random() < 0.04),
                "body_markdown": md,
                "body_html": html,
                "hidden": hidden,
                "deleted": deleted,
                "endorsed_by_id": None,
                "endorsed_at": None,
                "created_at": p.at,
                "edited_at": edited,
            }
        )
        last_at[p.thread] = max(last_at[p.thread], p.at)
        if not p.opening and not hidden and not deleted:
            if p.parent is None:
                stats[p.thread]["replies"] += 1
                visible_replies.setdefault(p.thread, []).append(p)
            else:
                stats[p.thread]["comments"] += 1
    if len(p_rows) != posts:
        raise AssertionError(f"planned {len(p_rows)} posts, wanted {posts}")
    by_id = {r["id"]: r for r in p_rows}
    for r in rng.sample(p_rows, min(60, len(p_rows))):  # the stored HTML is the renderer's
        if markdown.render(r["body_markdown"]) != r["body_html"]:
            raise AssertionError(f"seeded HTML differs from the renderer for post {r['id']}")

    # endorsements and accepted answers (visible replies only)
    accepted: list[dict] = []
    for i, replies in visible_replies.items():
        t = t_rows[i]
        if rng.random() < 0.1:
            chosen = rng.choice(replies)
            row = by_id[chosen.id]
            row["endorsed_by_id"] = rng.choice(staff)
            row["endorsed_at"] = chosen.at + timedelta(hours=rng.uniform(1, 48))
            t["endorsed"] = True
        if t["kind"] == "question" and rng.random() < 0.5:
            accepted.append({"tid": t["id"], "pid": rng.choice(replies).id})

    # reactions: about a third of the visible posts, by people other than the author
    r_rows: list[dict] = []
    for r in p_rows:
        if r["hidden"] or r["deleted"] or rng.random() > 0.33:
            continue
        i = r["thread_id"] - 1
        group = t_rows[i]["cohort_group_id"]
        pool = people.members[group] if group is not None else learners
        for user in rng.sample(pool, min(len(pool), rng.choice((1, 1, 1, 2, 2, 3, 5)))):
            if user == r["author_id"]:
                continue
            kind = "helpful" if rng.random() < 0.4 else "like"
            r_rows.append(
                {
                    "post_id": r["id"],
                    "user_id": user,
                    "kind": kind,
                    "created_at": r["created_at"] + timedelta(minutes=rng.uniform(1, 600)),
                }
            )
            if kind == "helpful":
                stats[i]["helpful"] += 1
    for i, t in enumerate(t_rows):
        t["reply_count"] = stats[i]["replies"]
        t["comment_count"] = stats[i]["comments"]
        t["helpful_count"] = stats[i]["helpful"]
        t["last_activity_at"] = last_at[i]
        t.setdefault("lock_reason", None)
        t["accepted_post_id"] = None

    # follows (authors follow their threads), read markers of the two timed people
    f_rows = [
        {"thread_id": t["id"], "user_id": t["author_id"], "created_at": t["created_at"]}
        for t in t_rows
    ]
    m_rows = []
    for user in (people.learner_id, people.staff_id):
        for t in t_rows:
            if rng.random() < 0.4:
                m_rows.append(
                    {"user_id": user, "thread_id": t["id"], "read_at": last_at[t["id"] - 1]}
                )

    # insert
    engine = get_engine(app)
    _bulk(engine, Thread.__table__, t_rows)
    _bulk(engine, Post.__table__, p_rows)
    with engine.begin() as conn:
        if accepted:
            conn.execute(
                update(Thread.__table__)
                .where(Thread.__table__.c.id == bindparam("tid"))
                .values(accepted_post_id=bindparam("pid")),
                accepted,
            )
    _bulk(engine, PostRevision.__table__, revisions, ids=True)
    _bulk(engine, Reaction.__table__, r_rows, ids=True)
    _bulk(engine, Follow.__table__, f_rows, ids=True)
    _bulk(engine, ReadMarker.__table__, m_rows, ids=True)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in (
                "social_thread",
                "social_post",
                "social_post_revision",
                "social_reaction",
                "social_follow",
                "social_read_marker",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
    world = World(
        board_id=board_id,
        big_thread_id=t_rows[big_index]["id"],
        learner_id=people.learner_id,
        staff_id=people.staff_id,
        counts={
            "threads": len(t_rows),
            "posts": len(p_rows),
            "reactions": len(r_rows),
            "revisions": len(revisions),
            "learners": len(learners),
            "cohorts": len(people.members),
            "course-wide threads": sum(1 for t in t_rows if t["cohort_group_id"] is None),
            "big thread replies": big_replies,
            "big thread comments": big_comments,
        },
        word_posts=dict(word_posts),
    )
    world.learner_token = launch_token(
        app, platform_id, context_id, placement_id, people.learner_id, roles.LEARNER
    )
    world.staff_token = launch_token(
        app, platform_id, context_id, placement_id, people.staff_id, roles.INSTRUCTOR
    )
    return world


def _bulk(engine: Engine, table: Table, rows: list[dict], *, ids: bool = False) -> None:
    """Core executemany in chunks, one transaction per chunk (``ids``: number the rows)."""
    if ids:
        for n, row in enumerate(rows, start=1):
            row["id"] = n
    for start in range(0, len(rows), CHUNK):
        with engine.begin() as conn:
            conn.execute(insert(table), rows[start : start + CHUNK])


def _per_thread(column: str, counted: str, where: str, source: str = "social_post p") -> str:
    """Threads whose ``column`` differs from ``counted`` over their rows (one grouped pass)."""
    return f"""SELECT count(*) FROM social_thread t LEFT JOIN (
        SELECT p.thread_id AS thread_id, {counted} AS n FROM {source} WHERE {where}
        GROUP BY p.thread_id) c ON c.thread_id = t.id
        WHERE t.{column} != coalesce(c.n, 0)"""


CHECKS = {
    "reply_count": _per_thread(
        "reply_count",
        "count(*)",
        "p.parent_id IS NULL AND NOT p.is_opening AND NOT p.hidden AND NOT p.deleted",
    ),
    "comment_count": _per_thread(
        "comment_count", "count(*)", "p.parent_id IS NOT NULL AND NOT p.hidden AND NOT p.deleted"
    ),
    "helpful_count": _per_thread(
        "helpful_count",
        "count(*)",
        "r.kind = 'helpful'",
        "social_reaction r JOIN social_post p ON p.id = r.post_id",
    ),
    "opening post": """SELECT count(*) FROM social_thread t LEFT JOIN (
        SELECT thread_id, count(*) AS n FROM social_post WHERE is_opening GROUP BY thread_id) c
        ON c.thread_id = t.id WHERE coalesce(c.n, 0) != 1""",
    "last_activity_at": """SELECT count(*) FROM social_thread t JOIN (
        SELECT thread_id, max(created_at) AS latest FROM social_post GROUP BY thread_id) c
        ON c.thread_id = t.id WHERE t.last_activity_at != c.latest""",
}


def check(app: Flask) -> int:
    """The seeded counters agree with the rows, and every post is in the search index (when
    migration 0007 made one); returns the number of indexed posts (-1 without an index)."""
    engine = get_engine(app)
    with engine.connect() as conn:
        for what, sql in CHECKS.items():
            wrong = conn.scalar(text(sql))
            if wrong:
                raise AssertionError(f"{wrong} threads have a wrong {what}")
        posts = conn.scalar(text("SELECT count(*) FROM social_post"))
        if engine.dialect.name == "postgresql":
            found = conn.scalar(text("SELECT to_regclass('social_post_fts') IS NOT NULL"))
            sql = "SELECT count(*) FROM social_post_fts"
        else:
            found = conn.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'social_post_fts'")
            )
            sql = "SELECT count(*) FROM social_post_fts_docsize"
        if not found:
            return -1
        indexed = conn.scalar(text(sql))
        if indexed != posts:
            raise AssertionError(f"{indexed} posts in the search index, {posts} posts")
        return indexed


def analyze(app: Flask) -> None:
    """Planner statistics after the bulk load: ``VACUUM ANALYZE`` on PostgreSQL (what autovacuum
    does shortly after a load) or ``ANALYZE`` on SQLite (which the tool never runs by itself)."""
    engine = get_engine(app)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
