"""The one error of the delivery document."""


class DeliveryError(ValueError):
    """The document cannot be made; str(error) is a translated message for organisers."""
