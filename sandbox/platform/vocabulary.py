"""The LTI 1.3 / Advantage vocabulary the sandbox platform speaks: claim names, message types,
scopes, role URIs, media types, and the platform's own limits and lifetimes (seconds)."""

LTI_VERSION = "1.3.0"
LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = LTI_CLAIM + "message_type"
CLAIM_VERSION = LTI_CLAIM + "version"
CLAIM_DEPLOYMENT_ID = LTI_CLAIM + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI_CLAIM + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI_CLAIM + "resource_link"
CLAIM_ROLES = LTI_CLAIM + "roles"
CLAIM_CONTEXT = LTI_CLAIM + "context"
CLAIM_TOOL_PLATFORM = LTI_CLAIM + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = LTI_CLAIM + "launch_presentation"
CLAIM_CUSTOM = LTI_CLAIM + "custom"
CLAIM_LIS = LTI_CLAIM + "lis"
CLAIM_ROLE_SCOPE_MENTOR = LTI_CLAIM + "role_scope_mentor"

DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM_DL_SETTINGS = DL_CLAIM + "deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = DL_CLAIM + "content_items"
CLAIM_DL_DATA = DL_CLAIM + "data"
CLAIM_DL_MSG = DL_CLAIM + "msg"
CLAIM_DL_LOG = DL_CLAIM + "log"
CLAIM_DL_ERRORMSG = DL_CLAIM + "errormsg"
CLAIM_DL_ERRORLOG = DL_CLAIM + "errorlog"

CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_GROUPS = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

MSG_RESOURCE_LINK = "LtiResourceLinkRequest"
MSG_DEEP_LINKING = "LtiDeepLinkingRequest"
MSG_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGES = (MSG_RESOURCE_LINK, MSG_DEEP_LINKING)

SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_GROUPS = "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
SERVICE_SCOPES = (*AGS_SCOPES, SCOPE_NRPS, SCOPE_GROUPS)

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLE_INSTRUCTOR = MEMBERSHIP + "#Instructor"
ROLE_LEARNER = MEMBERSHIP + "#Learner"
ROLE_MENTOR = MEMBERSHIP + "#Mentor"
ROLE_CONTENT_DEVELOPER = MEMBERSHIP + "#ContentDeveloper"
ROLE_ADMINISTRATOR = MEMBERSHIP + "#Administrator"
ROLE_TEACHING_ASSISTANT = MEMBERSHIP + "/Instructor#TeachingAssistant"
ROLE_INSTITUTION_FACULTY = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
ROLE_INSTITUTION_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
ROLE_INSTITUTION_STAFF = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff"
ROLE_INSTITUTION_MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Mentor"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

MEDIA_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MEDIA_GROUPS = "application/vnd.ims.lti-gs.v1.contextgroupcontainer+json"
MEDIA_GROUP_SETS = "application/vnd.ims.lti-gs.v1.contextgroupsetcontainer+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_LTI_LINK = "application/vnd.ims.lti.v1.ltilink"

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
DL_CONTENT_TYPES = ("ltiResourceLink", "link", "file", "html", "image")
PRESENTATION_TARGETS = ("iframe", "window", "embed")

#: OIDC claims about the person that a dynamically registered tool must ask for.
PII_CLAIMS = frozenset(
    {"name", "given_name", "family_name", "middle_name", "nickname", "email", "picture", "locale"}
)

#: Custom-parameter substitution variables this platform resolves (LTI 1.3 Appendix C).
SUBSTITUTION_VARIABLES = (
    "User.id",
    "User.username",
    "Person.sourcedId",
    "Person.name.full",
    "Person.name.given",
    "Person.name.family",
    "Person.email.primary",
    "Context.id",
    "Context.label",
    "Context.title",
    "Context.type",
    "CourseOffering.sourcedId",
    "CourseOffering.label",
    "CourseOffering.title",
    "CourseSection.sourcedId",
    "ResourceLink.id",
    "ResourceLink.title",
    "ResourceLink.description",
    "Membership.role",
    "Membership.role.scope.mentor",
    "Message.locale",
    "ToolPlatform.productFamilyCode",
    "ToolPlatform.version",
    "ToolPlatformInstance.guid",
    "ToolPlatformInstance.name",
)

PRODUCT_FAMILY_CODE = "sandbox"
PRODUCT_VERSION = "1.0"
ID_TOKEN_LIFETIME = 300
ACCESS_TOKEN_LIFETIME = 3600
MESSAGE_HINT_LIFETIME = 600
REGISTRATION_TOKEN_LIFETIME = 3600
JWKS_CACHE_SECONDS = 60
JWT_LEEWAY = 10
HTTP_TIMEOUT = 10
