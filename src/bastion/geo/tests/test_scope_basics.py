from bastion.geo.models import Household, Node, Resident


def test_grid_chief_sees_only_own_grid(tree):
    grid_user = tree.users["grid"]
    assert Resident.objects.restrict(grid_user).count() == 2 * 2 * 4 * 2
    assert set(Resident.objects.restrict(grid_user).values_list("grid_id", flat=True)) == {
        tree.grids[0].pk
    }
    assert not Node.objects.restrict(grid_user).filter(pk=tree.grids[1].pk).exists()


def test_street_commander_sees_whole_street(tree):
    assert Household.objects.restrict(tree.users["street"]).count() == 8 * 2 * 4


def test_login_without_role_sees_nothing(tree):
    assert not Resident.objects.restrict(tree.users["nobody"]).exists()


def test_volunteer_views_but_cannot_change(tree):
    volunteer = tree.users["volunteer"]
    assert Resident.objects.restrict(volunteer).count() == 32
    assert not Resident.objects.restrict(volunteer, "change").exists()
