from fabrikam.problems import NotFound


class DeliveryNotFound(NotFound):
    title = "Delivery not found"
    slug = "delivery-not-found"
