from fabrikam.problems import Conflict, NotFound


class NoDroneAvailable(Conflict):
    title = "No drone available"
    slug = "no-drone-available"


class DroneDeliveryNotFound(NotFound):
    title = "Drone delivery not found"
    slug = "drone-delivery-not-found"


class DroneNotFound(NotFound):
    title = "Drone not found"
    slug = "drone-not-found"


class DroneBusy(Conflict):
    title = "Drone is busy"
    slug = "drone-busy"
