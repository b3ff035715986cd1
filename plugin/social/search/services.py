"""Full-text search across a course's discussion boards.

The index (migration 0007) holds every post's Markdown and, for a thread's opening post, the
thread's title: SQLite FTS5 (porter stemmer, ranked by bm25 with the title weighing more) or a
PostgreSQL ``tsvector`` per post (configuration ``social_search``: english, without accents when
``unaccent`` is there; title weight A, body weight B; ranked by ``ts_rank``). Both are kept in
step with the posts by triggers, so nothing here writes. docs/boards-search.md has the details.

What a person finds follows the boards' visibility rules (:mod:`plugin.social.boards`): only their
course; in cohort mode a learner finds their cohorts' threads and the course-wide ones; hidden
posts (and every post of a thread whose opening post is hidden) only for staff; deleted posts
never; in Q&A mode a learner who has not answered a question does not find classmates' answers
to it; anonymous authors appear as "Anonymous" to peers.

The user's text is never passed to the search engine as syntax: it is cut into words, each word
is quoted, and the last word (3 characters or more) also matches as a prefix. Pages are keyset
pages over (rank, post id). A page costs two queries whatever its size (the best matches, ranked,
with their threads, boards and authors, checked for visibility; then their snippets), plus one
when the best matches do not fill the page and every match has to be checked.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Float,
    Integer,
    and_,
    cast,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from plugin import paging
from plugin.access import Refusal, Viewer
from plugin.lti.models import Placement, User
from plugin.social import boards
from plugin.social.display import AuthorView, author_view
from plugin.social.models import COHORT_NONE, KIND_QUESTION, Board, Post, Thread

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MIN_PREFIX_CHARS = 3
MAX_LIMIT = 50
SNIPPET_TOKENS = 24
WINDOW_FACTOR = 8  # visibility is checked first among the best 8 * (page size + 1) matches
TITLE_WEIGHT = 4.0  # SQLite bm25 column weights; PostgreSQL uses tsvector weights A and B
BODY_WEIGHT = 1.0

KIND_THREAD = "thread"
KIND_REPLY = "reply"
KIND_COMMENT = "comment"

# The index objects of migration 0007, which are not in the models (they differ per database).
INDEX_TABLE = "social_post_fts"
INDEX_TABLES = frozenset(
    {INDEX_TABLE}
    | {f"{INDEX_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")}
)

# Sentinels the database puts around matched words; turned into <mark> after escaping.
_START, _STOP = "\x02", "\x03"
_TERM = re.compile(r"[^\W_]+")


def alembic_include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: leave the search index tables (FTS5 and its shadow tables on
    SQLite, the tsvector table on PostgreSQL) out of autogenerate and the drift check."""
    return not (type_ == "table" and name in INDEX_TABLES)


# --- results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchHit:
    """One post found: where it is, who wrote it (as the viewer may see them), and a snippet whose
    only markup is ``<mark>`` around the matched words."""

    board_id: int
    board_title: str
    thread_id: int
    post_id: int
    thread_title: str
    kind: str  # "thread" (the opening post), "reply" or "comment"
    author: AuthorView
    created_at: datetime
    snippet_html: str
    rank: float  # higher is better; comparable within one search only
    hidden: bool = False  # staff only ever see hidden posts


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None


# --- the query -----------------------------------------------------------------------------------
def terms_of(query: object) -> list[str]:
    """The words of what the person typed (lower case, in order, without repeats). 400 when there
    is no word or the text is too long."""
    if not isinstance(query, str):
        raise Refusal(400, "Type a word to search.")
    if len(query) > MAX_QUERY_CHARS:
        raise Refusal(400, f"A search can be at most {MAX_QUERY_CHARS} characters long.")
    words = [w.casefold() for w in _TERM.findall(query)]
    if not words:
        raise Refusal(400, "Type a word to search.")
    last = words[-1]
    terms = [w for w in dict.fromkeys(words) if w != last][: MAX_TERMS - 1]
    return [*terms, last]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every word quoted (so no word is syntax), all required, the last
    one also as a prefix. Words hold letters and digits only, so they never contain a quote."""
    parts = [f'"{t}"' for t in terms]
    if len(terms[-1]) >= MIN_PREFIX_CHARS:
        parts[-1] += " *"
    return " AND ".join(parts)


def tsquery(terms: list[str]) -> str:
    """A ``to_tsquery`` expression: every word a quoted lexeme, all required, the last one also as
    a prefix (``to_tsquery`` stems it first)."""
    parts = [f"'{t}'" for t in terms]
    if len(terms[-1]) >= MIN_PREFIX_CHARS:
        parts[-1] += ":*"
    return " & ".join(parts)


def _fingerprint(terms: list[str], board_id: int | None) -> str:
    key = json.dumps([terms, board_id], ensure_ascii=False).encode()
    return hashlib.sha256(key).hexdigest()[:12]


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[float, int]:
    marker, rank, post_id = paging.decode(cursor, 3)
    invalid = Refusal(400, "This page link is not valid.")
    if marker != fingerprint or isinstance(rank, bool) or not isinstance(rank, int | float):
        raise invalid
    try:
        score = float(rank)
    except OverflowError as exc:  # an int beyond any float
        raise invalid from exc
    if not math.isfinite(score):
        raise invalid
    return score, paging.cursor_id(post_id)


_fts = table(INDEX_TABLE, column("rowid", Integer), column("body"))
_fts_name = literal_column(INDEX_TABLE)
_pg_index = table(
    INDEX_TABLE, column("post_id", Integer), column("context_id", Integer), column("document")
)
_CONFIG = literal_column("'social_search'::regconfig")  # english (+ unaccent), migration 0007


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _match_parts(session: Session, viewer: Viewer, terms: list[str]):
    """The index's post id, the score and the match condition, for this database."""
    if _dialect(session) == "postgresql":
        query = func.to_tsquery(_CONFIG, tsquery(terms))
        # ts_rank (term frequency with the A/B weights), normalisation 1: divided by
        # 1 + log(length). Not ts_rank_cd: measured on 24,000 matches it costs twice as much, and
        # the proximity it adds matters little for posts. A real, made double precision so that
        # the value in a cursor compares equal to itself on the next page.
        rank = func.ts_rank(_pg_index.c.document, query, literal_column("1"))
        matching = and_(
            _pg_index.c.document.op("@@")(query), _pg_index.c.context_id == viewer.context_id
        )
        return _pg_index.c.post_id, cast(rank, Float(53)), matching
    weights = (literal_column(repr(TITLE_WEIGHT)), literal_column(repr(BODY_WEIGHT)))
    score = -func.bm25(_fts_name, *weights, type_=Float)
    return _fts.c.rowid, score, _fts_name.op("MATCH")(fts5_query(terms))


def _matches(
    session: Session,
    viewer: Viewer,
    terms: list[str],
    after: tuple[float, int] | None,
    window: int | None,
):
    """(post_id, score) of the posts that match and come after the cursor, best first (higher
    scores are better), at most ``window`` of them (a CTE: the caller also counts it). On PostgreSQL only the viewer's course is
    ranked; the caller scopes the rows in any case."""
    post_id, score, matching = _match_parts(session, viewer, terms)
    # Ranked once, in a materialized CTE (SQLite's bm25() works only next to its MATCH).
    ranked = (
        select(post_id.label("post_id"), score.label("score"))
        .where(matching)
        .cte("ranked")
        .prefix_with("MATERIALIZED")
    )
    found = select(ranked.c.post_id, ranked.c.score)
    if after is not None:
        last_rank, last_id = after
        found = found.where(
            or_(
                ranked.c.score < last_rank,
                and_(ranked.c.score == last_rank, ranked.c.post_id < last_id),
            )
        )
    found = found.order_by(ranked.c.score.desc(), ranked.c.post_id.desc())
    if window is not None:
        found = found.limit(window)
    return found.cte("matches")


def _snippets(session: Session, terms: list[str], post_ids: list[int]) -> dict[int, str]:
    """Snippets of the body of these posts with the matched words between sentinels."""
    if not post_ids:
        return {}
    if _dialect(session) == "postgresql":
        options = (
            f'StartSel="{_START}", StopSel="{_STOP}", MaxWords=30, MinWords=12, '
            'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
        )
        headline = func.ts_headline(
            _CONFIG, Post.body_markdown, func.to_tsquery(_CONFIG, tsquery(terms)), options
        )
        rows = session.execute(select(Post.id, headline).where(Post.id.in_(post_ids)))
    else:
        snippet = func.snippet(_fts_name, 1, _START, _STOP, "…", SNIPPET_TOKENS)
        rows = session.execute(
            select(_fts.c.rowid, snippet).where(
                _fts_name.op("MATCH")(fts5_query(terms)), _fts.c.rowid.in_(post_ids)
            )
        )
    return {post_id: text or "" for post_id, text in rows}


def _visible(viewer: Viewer, query, parent):
    """The boards' visibility rules as WHERE clauses (staff see everything but deleted posts)."""
    if viewer.staff:
        return query
    answers = Post.__table__.alias("own_answer")
    answered = exists().where(
        answers.c.thread_id == Thread.id,
        answers.c.author_id == viewer.user_id,
        answers.c.parent_id.is_(None),
        answers.c.is_opening.is_(False),
        answers.c.deleted.is_(False),
    )
    withheld = and_(
        Board.qa_mode.is_(True),
        Thread.kind == KIND_QUESTION,
        Thread.author_id != viewer.user_id,
        ~answered,
    )
    # The thread's opening post, straight from the index (thread_id, is_opening); an alias, since
    # the outer query reads social_post too.
    opening = Post.__table__.alias("opening")
    opening_hidden = (
        select(opening.c.hidden)
        .where(opening.c.thread_id == Thread.id, opening.c.is_opening.is_(True))
        .limit(1)
        .scalar_subquery()
    )
    groups = sorted(viewer.group_ids)
    return query.where(
        Post.hidden.is_(False),
        opening_hidden.is_(False),  # a hidden question hides its whole thread
        or_(parent.c.id.is_(None), parent.c.hidden.is_(False)),  # comments of hidden replies
        or_(
            Board.cohort_mode == COHORT_NONE,
            Thread.cohort_group_id.is_(None),
            Thread.cohort_group_id.in_(groups) if groups else false(),
        ),
        # Q&A: until they answer, a learner sees the question, their own answers and the
        # comments under those (as the thread page shows it).
        or_(
            ~withheld,
            Post.is_opening.is_(True),
            and_(Post.parent_id.is_(None), Post.author_id == viewer.user_id),
            parent.c.author_id == viewer.user_id,
        ),
    )


def _visible_matches(
    session: Session,
    viewer: Viewer,
    terms: list[str],
    board: Board | None,
    after: tuple[float, int] | None,
    limit: int,
    window: int | None,
) -> list:
    """One query: the first ``limit`` matches the viewer may see among the best ``window``, each
    with ``considered``: how many matches that window held."""
    matches = _matches(session, viewer, terms, after, window)
    considered = select(func.count()).select_from(matches).scalar_subquery()
    parent = Post.__table__.alias("parent")
    query = (
        select(
            matches.c.score,
            considered.label("considered"),
            Post.id,
            Post.parent_id,
            Post.is_opening,
            Post.anonymous,
            Post.hidden,
            Post.created_at,
            Thread.id.label("thread_id"),
            Thread.title,
            Board.id.label("board_id"),
            Placement.title.label("board_title"),
            User,
        )
        .select_from(matches)
        .join(Post, Post.id == matches.c.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .join(Placement, Placement.id == Board.placement_id)
        .join(User, User.id == Post.author_id)
        .outerjoin(parent, parent.c.id == Post.parent_id)
        .where(Board.context_id == viewer.context_id, Post.deleted.is_(False))
    )
    if board is not None:
        query = query.where(Board.id == board.id)
    query = _visible(viewer, query, parent)
    query = query.order_by(matches.c.score.desc(), matches.c.post_id.desc()).limit(limit)
    return list(session.execute(query))


def search(
    session: Session,
    viewer: Viewer,
    query: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    board_id: int | None = None,
) -> SearchPage:
    """A page of the posts of the viewer's course (or of one board of it) matching ``query``, best
    first. 400 for a query without words or over 200 characters and for a bad ``cursor``; 404 for
    a board of another course."""
    terms = terms_of(query)
    limit = paging.limit(limit, MAX_LIMIT)
    board = boards.get_board(session, viewer, board_id) if board_id is not None else None
    fingerprint = _fingerprint(terms, board_id)
    after = _decode_cursor(cursor, fingerprint) if cursor else None

    # Rank every match, but check visibility only for the best few first: most pages are full
    # from there. When they are not (a learner who sees little of what matched) and the window
    # did not hold every match, check them all.
    window = WINDOW_FACTOR * (limit + 1)
    rows = _visible_matches(session, viewer, terms, board, after, limit + 1, window)
    if len(rows) <= limit and (not rows or rows[0].considered >= window):
        rows = _visible_matches(session, viewer, terms, board, after, limit + 1, None)
    more = len(rows) > limit
    rows = rows[:limit]

    snippets = _snippets(session, terms, [r.id for r in rows])
    names = {r.User.id: r.User.display_name for r in rows}
    hits = [
        SearchHit(
            board_id=r.board_id,
            board_title=r.board_title or "Discussion board",
            thread_id=r.thread_id,
            post_id=r.id,
            thread_title=r.title,
            kind=KIND_THREAD if r.is_opening else KIND_COMMENT if r.parent_id else KIND_REPLY,
            author=author_view(viewer, r.User.id, r.anonymous, names),
            created_at=r.created_at,
            snippet_html=snippet_html(snippets.get(r.id, "")),
            rank=float(r.score),
            hidden=bool(r.hidden),
        )
        for r in rows
    ]
    next_cursor = None
    if more and rows:
        next_cursor = paging.encode([fingerprint, float(rows[-1].score), rows[-1].id])
    return SearchPage(hits, next_cursor)


# --- snippets ------------------------------------------------------------------------------------
_HTML_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.S)
# a tag cut in two by the snippet's edge: "…onclick=x>" at the start, "<img src=…" at the end
_CUT_TAG = re.compile(r"^…[^<>]*=[^<>]*>|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>…]*)?(?=…?$)")
_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[^\n]*$", re.M)
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")
_CUT_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^()\s…]*(?=…?$)")  # a link cut by the snippet's end
_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_LINK_DEF = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>", re.I)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?=\s)", re.M)
_QUOTE = re.compile(r"^(?:[ \t]{0,3}>)+", re.M)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?=[ \t])", re.M)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|)+[ \t]*(?::?-{2,}:?)?[ \t]*$", re.M)
# emphasis: paired * or _ runs (an _ only at word edges, as CommonMark has it), then leftovers
# that can only be markup (** cut by the snippet's edge, ~~, backticks)
_EMPHASIS = re.compile(
    r"(\*{1,3})(?=[^\s*])([^*]+?)(?<=[^\s*])\1"
    r"|(?<![^\W_])(_{1,3})(?=[^\s_])([^_]+?)(?<=[^\s_])\3(?![^\W_])",
    re.S,
)
_MARKUP_LEFT = re.compile(r"\*{2,}|~~+|`+")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPACE = re.compile(r"\s+")


def plain_text(markdown: str) -> str:
    """The words of a Markdown fragment without its markup: no emphasis markers, link targets,
    heading, quote, list or table syntax, code fences, backslash escapes or HTML tags (PostgreSQL's
    ``ts_headline`` drops the tags it recognises; this drops the rest, so both databases agree).
    What is left is text, escaped by :func:`snippet_html`."""
    text = _FENCE.sub(" ", markdown)
    text = _LINK_DEF.sub(" ", text)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _CUT_LINK.sub(r"\1", text.rstrip())
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _CUT_TAG.sub(lambda m: "… " if m.group().startswith("…") else " ", text.strip())
    text = _RULE.sub(" ", text)
    text = _TABLE_RULE.sub(" ", text)
    text = _HEADING.sub(" ", text)
    text = _QUOTE.sub(" ", text)
    text = _LIST_ITEM.sub(" ", text)
    text = text.replace("|", " ")
    for _ in range(2):  # **strong *and emphasis***
        text = _EMPHASIS.sub(lambda m: m.group(2) if m.group(1) else m.group(4), text)
    text = _MARKUP_LEFT.sub("", text)
    text = _ESCAPE.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()


def snippet_html(raw: str) -> str:
    """Safe HTML from a database snippet: Markdown stripped, every character escaped, and the
    sentinel-marked words wrapped in ``<mark>`` (always balanced, even if a post holds a stray
    sentinel character)."""
    out: list[str] = []
    open_mark = False
    for piece in re.split(f"([{_START}{_STOP}])", plain_text(raw)):
        if piece == _START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif piece == _STOP:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        elif piece:
            out.append(html.escape(html.unescape(piece), quote=True))
    if open_mark:
        out.append("</mark>")
    return "".join(out).replace("<mark></mark>", "")
