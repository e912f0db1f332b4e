"""Django's own messages that our pages can show, marked so that our catalogues hold them.

Django ships Persian but no Pashto translations, so a Pashto reader would see these in
English. `makemessages` copies the marked strings below into hamseda/locale/*/django.po,
where they are translated like our own; our catalogue (LOCALE_PATHS) takes precedence
over Django's, which also lets the Dari wording differ from Django's Iranian Persian.
Nothing imports this module: the strings only need to be found by `makemessages`.

Each msgid must match Django's source exactly (Django 5.2), curly quotes included; the
i18n tests check that every one is still a message Django really uses.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = [
    # Month names, for dates on Pashto and Dari pages (hamseda/formats): Django's dates
    # module marks them without a context.
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
    # Any field; CharField also refuses NUL characters (the sign form's e-mail,
    # postcode and reason show it, since their own messages do not cover it).
    gettext_noop("This field is required."),
    gettext_noop("Null characters are not allowed."),
    # Organizer forms: petition address, campaign, decision-makers, goal, closing date.
    gettext_noop("Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
    gettext_noop("%(model_name)s with this %(field_label)s already exists."),
    gettext_noop("Select a valid choice. That choice is not one of the available choices."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Enter a list of values."),
    gettext_noop("“%(pk)s” is not a valid value."),
    gettext_noop("Enter a whole number."),
    gettext_noop("Ensure this value is greater than or equal to %(limit_value)s."),
    gettext_noop("Ensure this value is less than or equal to %(limit_value)s."),
    gettext_noop("Enter a valid date/time."),
    # The petition image and its file input (ClearableFileInput).
    gettext_noop(
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    ),
    gettext_noop(
        "File extension “%(extension)s” is not allowed. Allowed extensions are: "
        "%(allowed_extensions)s."
    ),
    gettext_noop("No file was submitted. Check the encoding type on the form."),
    gettext_noop("No file was submitted."),
    gettext_noop("The submitted file is empty."),
    gettext_noop("Please either submit a file or check the clear checkbox, not both."),
    gettext_noop("Currently"),
    gettext_noop("Change"),
    gettext_noop("Clear"),
]

PLURAL_MESSAGES = [
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    ngettext_lazy(
        "Ensure this filename has at most %(max)d character (it has %(length)d).",
        "Ensure this filename has at most %(max)d characters (it has %(length)d).",
        "max",
    ),
]
